// File: text/load_tokenizer.h
//
// load_tokenizer.h: from a path to ids. A tokenizer path is a tokenizer.json (Hugging Face), a
// tokenizer.model (SentencePiece) or a checkpoint folder holding one (tokenizer.json preferred).
// Text files must be UTF-8: anything else is an error naming the file and the byte offset.
// TokenizeFiles is what the analysis binaries' --text flag runs; it also returns what their
// reports record: the tokenizer file, its SHA-256 and the number of tokens per file.
//
// Example:
//   absl::StatusOr<TokenizedFiles> t = TokenizeFiles("/models/m", {"a.txt"}, true);
//   // t->tokenizer_file "/models/m/tokenizer.json", t->files[0].ids ...
#ifndef SINKSCOPE_TEXT_LOAD_TOKENIZER_H_
#define SINKSCOPE_TEXT_LOAD_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "text/tokenizer.h"

namespace sinkscope::text {

// The tokenizer file `path` names (itself, or the one inside the folder).
absl::StatusOr<std::string> ResolveTokenizerPath(const std::string& path);

// Loads the tokenizer `path` names; `*resolved` (optional) receives its file.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path,
                                                         std::string* resolved = nullptr);

// The file's bytes; an error naming the file and the offset when they are not valid UTF-8.
absl::StatusOr<std::string> ReadUtf8File(const std::string& path);

// Token ids written as integers separated by white space or commas; `what` names the source in
// errors.
absl::StatusOr<std::vector<int32_t>> ParseTokenIdList(absl::string_view text, absl::string_view what);

struct TokenizedFile {
  std::string path;
  std::vector<int32_t> ids;
};

struct TokenizedFiles {
  std::string tokenizer_file;
  std::string tokenizer_sha256;
  std::string tokenizer_description;
  std::vector<TokenizedFile> files;
};

// Every file tokenized whole (or an error: nothing partial).
absl::StatusOr<TokenizedFiles> TokenizeFiles(const std::string& tokenizer_path,
                                             const std::vector<std::string>& files,
                                             bool add_special_tokens);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_LOAD_TOKENIZER_H_
