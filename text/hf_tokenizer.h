// File: text/hf_tokenizer.h
//
// hf_tokenizer.h: a Hugging Face tokenizer.json with a BPE model, run as the reference
// (tokenizers / tokenizers.js) runs it: added tokens split off the raw text, the normalizer on
// each remaining piece, added tokens with normalized=true split off that, the pre-tokenizer, the
// BPE model per word, then the special tokens of the post-processor. tokenizer_config.json beside
// the file (when given) may set add_bos_token / add_eos_token (overriding the post-processor) and
// split_special_tokens. An unsupported component is an error naming it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadHfTokenizer("/m/tokenizer.json");
//   absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode("Hello", true);
#ifndef SINKSCOPE_TEXT_HF_TOKENIZER_H_
#define SINKSCOPE_TEXT_HF_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "text/tokenizer.h"

namespace sinkscope::text {

// From the JSON texts of tokenizer.json and (optional, "" when absent) tokenizer_config.json.
absl::StatusOr<std::unique_ptr<Tokenizer>> MakeHfTokenizer(absl::string_view tokenizer_json,
                                                           absl::string_view config_json);

// Reads `path` and the tokenizer_config.json in its directory when there is one. Errors name the
// file.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& path);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_HF_TOKENIZER_H_
