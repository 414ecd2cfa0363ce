// File: text/pre_tokenizer.h
//
// pre_tokenizer.h: the "pre_tokenizer" of a tokenizer.json, which cuts normalized text into the
// words the model encodes one by one: Split (a string or an Oniguruma-style regex, behaviors
// Removed / Isolated / MergedWithPrevious / MergedWithNext / Contiguous, invert), ByteLevel (GPT-2's
// regex and byte alphabet), Metaspace ("▁", prepend_scheme always / first / never, split), Digits
// and Sequence. Any other type is an error naming it.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PreTokenizer>> p = MakePreTokenizer(json.Find("pre_tokenizer"));
//   std::vector<std::string> words = {"Hello world"};
//   (*p)->PreTokenize(&words, /*first_section=*/true);   // GPT-2: {"Hello", "Ġworld"}
#ifndef SINKSCOPE_TEXT_PRE_TOKENIZER_H_
#define SINKSCOPE_TEXT_PRE_TOKENIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace sinkscope::text {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each piece by its pieces. `first_section`: the pieces come from the start of the
  // input (before any added token), which Metaspace's prepend_scheme "first" needs.
  virtual void PreTokenize(std::vector<std::string>* pieces, bool first_section) const = 0;
};

// From the tokenizer.json "pre_tokenizer" object; a null or absent one gives nullptr.
absl::StatusOr<std::unique_ptr<PreTokenizer>> MakePreTokenizer(const model::JsonValue* json);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_PRE_TOKENIZER_H_
