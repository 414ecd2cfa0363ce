// File: text/tokenizer.h
//
// tokenizer.h: what every tokenizer offers (text -> ids -> text), whatever file it was loaded
// from: Hugging Face tokenizer.json (hf_tokenizer.h) or SentencePiece tokenizer.model
// (sentencepiece_tokenizer.h). load_tokenizer.h picks one from a path or a checkpoint folder.
//
// Example:
//   absl::StatusOr<std::vector<int32_t>> ids = tokenizer.Encode("Hello world", true);
//   absl::StatusOr<std::string> text = tokenizer.Decode(*ids, /*skip_special_tokens=*/false);
#ifndef SINKSCOPE_TEXT_TOKENIZER_H_
#define SINKSCOPE_TEXT_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // `text` must be valid UTF-8. add_special_tokens: the BOS / EOS the tokenizer adds around a
  // text (post-processor or tokenizer_config.json's add_bos_token / add_eos_token).
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_special_tokens) const = 0;
  // Errors for ids outside the vocabulary.
  virtual absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                                             bool skip_special_tokens) const = 0;
  // One past the largest id.
  virtual int32_t vocab_size() const = 0;
  // "tokenizer.json (BPE, byte-level)" etc., for logs and reports.
  virtual std::string Describe() const = 0;
};

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_TOKENIZER_H_
