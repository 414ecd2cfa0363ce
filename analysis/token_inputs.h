// File: analysis/token_inputs.h
//
// token_inputs.h: where an analysis binary's token ids come from, and the flags every binary that
// reads ids shares: --tokens=F1[,F2...] (files of integer ids) or --text=F1[,F2...] (UTF-8 text,
// tokenized with --tokenizer=PATH: a tokenizer.json, a tokenizer.model or a folder holding one;
// default the checkpoint folder; --add_special_tokens adds its BOS / EOS). With text, the report's
// provenance records the tokenizer file, its SHA-256 and each file's token count (TextInput).
//
// Example:
//   if (std::string p = TokenFlagsProblem(tokens, true); !p.empty()) return UsageError(kTool, p);
//   absl::StatusOr<TokenInputs> in = TokenInputs::FromFlags(tokens, checkpoint);
//   absl::StatusOr<std::vector<int32_t>> ids = in->Read(0);
//   in->NoteUsed(0, ids->size());
//   in->Record(report.mutable_provenance());
#ifndef SINKSCOPE_ANALYSIS_TOKEN_INPUTS_H_
#define SINKSCOPE_ANALYSIS_TOKEN_INPUTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"
#include "text/tokenizer.h"

ABSL_DECLARE_FLAG(std::string, text);
ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(bool, add_special_tokens);

namespace sinkscope::analysis {

// A usage problem with --tokens / --text / --tokenizer ("" when none). `tokens`: the --tokens
// value. required: one of --tokens and --text must be given.
std::string TokenFlagsProblem(const std::string& tokens, bool required);

class TokenInputs {
 public:
  // From --tokens (the value given) or --text / --tokenizer / --add_special_tokens; the tokenizer
  // is loaded now (its errors name its file). `resolve`: maps a path the user gave to one the
  // process can open (sink_study's bazel-run working directory), identity by default.
  static absl::StatusOr<TokenInputs> FromFlags(
      const std::string& tokens, const std::string& checkpoint,
      std::string (*resolve)(const std::string&) = nullptr);

  bool from_text() const { return tokenizer_ != nullptr; }
  // The files as given on the command line.
  const std::vector<std::string>& files() const { return files_; }
  // "--text" or "--tokens", and the list as given: for the provenance config.
  std::map<std::string, std::string> ConfigEntries() const;

  // Ids of files()[i]: read, or tokenized whole (invalid UTF-8: an error naming the file and
  // the byte offset).
  absl::StatusOr<std::vector<int32_t>> Read(size_t i);
  // How many of file i's ids the run used (after its caps).
  void NoteUsed(size_t i, int64_t used);
  // Writes provenance.text_input for the files read (nothing for --tokens).
  void Record(v1::Provenance* provenance) const;

 private:
  std::vector<std::string> files_;
  std::vector<std::string> paths_;  // files_ resolved
  std::string list_;                // the flag value
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  std::string tokenizer_file_, tokenizer_sha256_;
  bool add_special_tokens_ = true;
  std::map<size_t, std::pair<int64_t, int64_t>> counts_;  // file -> (tokens, used)
};

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_TOKEN_INPUTS_H_
