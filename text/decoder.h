// File: text/decoder.h
//
// decoder.h: the "decoder" of a tokenizer.json, which turns token strings back into text:
// ByteLevel (GPT-2's byte alphabet back to bytes, invalid UTF-8 as U+FFFD), Metaspace ("▁" back to
// spaces), ByteFallback (<0xXX> tokens to bytes), Fuse, Strip, Replace and Sequence. Any other
// type is an error naming it.
//
// Example:
//   std::vector<std::string> tokens = {"Hello", "Ġworld"};
//   (*decoder)->DecodeChain(&tokens);          // GPT-2: {"Hello world"}
#ifndef SINKSCOPE_TEXT_DECODER_H_
#define SINKSCOPE_TEXT_DECODER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace sinkscope::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token strings; the text is their concatenation.
  virtual void DecodeChain(std::vector<std::string>* tokens) const = 0;
};

// From the tokenizer.json "decoder" object; a null or absent one gives nullptr.
absl::StatusOr<std::unique_ptr<Decoder>> MakeDecoder(const model::JsonValue* json);

// `bytes` with each ill-formed UTF-8 sequence (maximal subpart) replaced by U+FFFD.
std::string Utf8Lossy(const std::string& bytes);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_DECODER_H_
