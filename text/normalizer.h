// File: text/normalizer.h
//
// normalizer.h: the "normalizer" of a tokenizer.json: NFC, NFD, NFKC, NFKD (ICU), Prepend,
// Replace (a string or a regex), Lowercase, Strip and Sequence of these. Any other type is an
// error naming it; nothing falls back silently.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Normalizer>> n = MakeNormalizer(json.Find("normalizer"));
//   std::string s = "hello world";
//   absl::Status st = (*n)->Normalize(&s);   // Llama 2: "▁hello▁world"
#ifndef SINKSCOPE_TEXT_NORMALIZER_H_
#define SINKSCOPE_TEXT_NORMALIZER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/json.h"

namespace sinkscope::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual absl::Status Normalize(std::string* text) const = 0;
};

// From the tokenizer.json "normalizer" object; a null or absent one gives nullptr.
absl::StatusOr<std::unique_ptr<Normalizer>> MakeNormalizer(const model::JsonValue* json);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_NORMALIZER_H_
