// File: text/sentencepiece_tokenizer.h
//
// sentencepiece_tokenizer.h: a SentencePiece tokenizer.model, through Debian's libsentencepiece
// (the reference implementation itself). add_special_tokens adds BOS (and no EOS), as Llama's
// tokenizer does, unless tokenizer_config.json beside the model sets add_bos_token /
// add_eos_token.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadSentencePieceTokenizer("/m/tokenizer.model");
#ifndef SINKSCOPE_TEXT_SENTENCEPIECE_TOKENIZER_H_
#define SINKSCOPE_TEXT_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "text/tokenizer.h"

namespace sinkscope::text {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_SENTENCEPIECE_TOKENIZER_H_
