#include "analysis/token_inputs.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "base/sha256.h"
#include "text/load_tokenizer.h"

ABSL_FLAG(std::string, text, "",
          "UTF-8 text files, comma-separated (one sequence each), tokenized with --tokenizer; "
          "instead of --tokens");
ABSL_FLAG(std::string, tokenizer, "",
          "with --text: tokenizer.json, tokenizer.model or a folder holding one (default: the "
          "checkpoint folder)");
ABSL_FLAG(bool, add_special_tokens, true, "with --text: add the tokenizer's BOS / EOS");

namespace sinkscope::analysis {

std::string TokenFlagsProblem(const std::string& tokens, bool required) {
  const std::string text = absl::GetFlag(FLAGS_text);
  if (!tokens.empty() && !text.empty()) return "give --tokens or --text, not both";
  if (required && tokens.empty() && text.empty()) return "--tokens or --text is required";
  if (text.empty() && !absl::GetFlag(FLAGS_tokenizer).empty()) {
    return "--tokenizer goes with --text";
  }
  return "";
}

absl::StatusOr<TokenInputs> TokenInputs::FromFlags(const std::string& tokens,
                                                   const std::string& checkpoint,
                                                   std::string (*resolve)(const std::string&)) {
  TokenInputs in;
  const std::string text = absl::GetFlag(FLAGS_text);
  in.list_ = text.empty() ? tokens : text;
  in.files_ = absl::StrSplit(in.list_, ',', absl::SkipEmpty());
  for (const std::string& f : in.files_) in.paths_.push_back(resolve ? resolve(f) : f);
  if (text.empty()) return in;
  std::string tokenizer = absl::GetFlag(FLAGS_tokenizer);
  tokenizer = tokenizer.empty() ? checkpoint : (resolve ? resolve(tokenizer) : tokenizer);
  if (tokenizer.empty()) {
    return absl::InvalidArgumentError("--text needs --tokenizer (or a --checkpoint folder with one)");
  }
  absl::StatusOr<std::unique_ptr<text::Tokenizer>> t =
      text::LoadTokenizer(tokenizer, &in.tokenizer_file_);
  if (!t.ok()) return t.status();
  in.tokenizer_ = std::shared_ptr<const text::Tokenizer>(std::move(*t));
  absl::StatusOr<std::string> sha = model::Sha256OfFile(in.tokenizer_file_);
  if (!sha.ok()) return sha.status();
  in.tokenizer_sha256_ = *std::move(sha);
  in.add_special_tokens_ = absl::GetFlag(FLAGS_add_special_tokens);
  return in;
}

std::map<std::string, std::string> TokenInputs::ConfigEntries() const {
  if (!from_text()) return {{"tokens", list_}};
  return {{"text", list_},
          {"tokenizer", tokenizer_file_},
          {"add_special_tokens", add_special_tokens_ ? "true" : "false"}};
}

absl::StatusOr<std::vector<int32_t>> TokenInputs::Read(size_t i) {
  if (!from_text()) return ReadTokenIds(paths_[i]);
  absl::StatusOr<std::string> text = text::ReadUtf8File(paths_[i]);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(*text, add_special_tokens_);
  if (!ids.ok()) {
    return absl::Status(ids.status().code(), absl::StrCat(paths_[i], ": ", ids.status().message()));
  }
  counts_[i] = {static_cast<int64_t>(ids->size()), static_cast<int64_t>(ids->size())};
  return ids;
}

void TokenInputs::NoteUsed(size_t i, int64_t used) {
  auto it = counts_.find(i);
  if (it != counts_.end()) it->second.second = used;
}

void TokenInputs::Record(v1::Provenance* provenance) const {
  if (!from_text()) return;
  v1::TextInput* t = provenance->mutable_text_input();
  t->set_tokenizer_file(tokenizer_file_);
  t->set_tokenizer_sha256(tokenizer_sha256_);
  t->set_tokenizer(tokenizer_->Describe());
  t->set_add_special_tokens(add_special_tokens_);
  for (const auto& [i, c] : counts_) {
    v1::TextFile* f = t->add_files();
    f->set_path(files_[i]);
    f->set_tokens(c.first);
    f->set_tokens_used(c.second);
  }
}

}  // namespace sinkscope::analysis
