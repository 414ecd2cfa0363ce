// tokenize: text to token ids (or, with --decode, ids to text) with a checkpoint's own tokenizer:
// a Hugging Face tokenizer.json (BPE), a SentencePiece tokenizer.model, or a checkpoint folder
// holding one. Prints the ids of the whole file on one line, separated by spaces.
//
// Usage: tokenize --tokenizer=PATH --text_file=F [--add_special_tokens=true|false] [--decode]
// Exit codes: 0 ok, 1 bad input (invalid UTF-8, unsupported tokenizer component, ids outside the
// vocabulary), 2 usage. Nothing is printed unless the whole file succeeded.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/cli.h"
#include "text/load_tokenizer.h"

ABSL_FLAG(std::string, tokenizer, "", "tokenizer.json, tokenizer.model, or a checkpoint folder holding one");
ABSL_FLAG(std::string, text_file, "", "UTF-8 text to encode (with --decode: token ids separated by white space or commas)");
ABSL_FLAG(bool, add_special_tokens, true, "add the tokenizer's BOS / EOS (post-processor or tokenizer_config.json)");
ABSL_FLAG(bool, decode, false, "read ids from --text_file and print their text");

namespace sa = sinkscope::analysis;
namespace st = sinkscope::text;

int main(int argc, char** argv) {
  constexpr char kTool[] = "tokenize";
  absl::SetProgramUsageMessage(
      "tokenize --tokenizer=PATH --text_file=F [--add_special_tokens=true|false] [--decode]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) return sa::UsageError(kTool, absl::StrCat("unexpected argument \"", rest[1], "\""));
  const std::string tokenizer_path = absl::GetFlag(FLAGS_tokenizer);
  const std::string file = absl::GetFlag(FLAGS_text_file);
  if (tokenizer_path.empty()) return sa::UsageError(kTool, "--tokenizer is required");
  if (file.empty()) return sa::UsageError(kTool, "--text_file is required");

  absl::StatusOr<std::unique_ptr<st::Tokenizer>> tokenizer = st::LoadTokenizer(tokenizer_path);
  if (!tokenizer.ok()) return sa::Fail(kTool, tokenizer.status());
  absl::StatusOr<std::string> text = st::ReadUtf8File(file);
  if (!text.ok()) return sa::Fail(kTool, text.status());
  if (absl::GetFlag(FLAGS_decode)) {
    absl::StatusOr<std::vector<int32_t>> ids = st::ParseTokenIdList(*text, file);
    if (!ids.ok()) return sa::Fail(kTool, ids.status());
    absl::StatusOr<std::string> decoded = (*tokenizer)->Decode(*ids, /*skip_special_tokens=*/false);
    if (!decoded.ok()) return sa::Fail(kTool, absl::Status(decoded.status().code(), absl::StrCat(file, ": ", decoded.status().message())));
    std::cout << *decoded << std::flush;
    return 0;
  }
  absl::StatusOr<std::vector<int32_t>> ids =
      (*tokenizer)->Encode(*text, absl::GetFlag(FLAGS_add_special_tokens));
  if (!ids.ok()) return sa::Fail(kTool, ids.status());
  std::cout << absl::StrJoin(*ids, " ") << "\n" << std::flush;
  return 0;
}
