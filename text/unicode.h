// File: text/unicode.h
//
// unicode.h: the Unicode pieces the tokenizers need, all from ICU (no hand-written tables):
// UTF-8 validation with the offending byte offset, character iteration, normalization forms,
// character classes (white space, numeric, alphanumeric) and a compiled regular expression
// (icu::RegexPattern: \p{..}, look-ahead, (?i:..)) that reports its matches as byte ranges.
//
// Example:
//   if (absl::Status st = ValidateUtf8(bytes); !st.ok()) ...;  // "invalid UTF-8 at byte 17"
//   absl::StatusOr<std::unique_ptr<Regex>> re = Regex::Compile(R"(\s+(?!\S)|\s+)");
//   std::vector<ByteRange> m = (*re)->FindAll("a  b");
#ifndef SINKSCOPE_TEXT_UNICODE_H_
#define SINKSCOPE_TEXT_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::text {

// OK, or InvalidArgument "invalid UTF-8 at byte N" (N the offset of the first bad sequence).
absl::Status ValidateUtf8(absl::string_view bytes);

// Decodes the code point starting at s[*i] (valid UTF-8 assumed) and advances *i past it.
char32_t NextCodePoint(absl::string_view s, size_t* i);
// Byte length of the UTF-8 sequence that starts with `lead` (1 for invalid lead bytes).
inline size_t Utf8Length(uint8_t lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}
void AppendUtf8(char32_t cp, std::string* out);

// Unicode character properties (ICU).
bool IsWhiteSpace(char32_t cp);   // White_Space
bool IsNumeric(char32_t cp);      // general category Nd, Nl or No
bool IsAlphanumeric(char32_t cp); // L*, N*

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };
absl::StatusOr<std::string> Normalize(NormalizationForm form, absl::string_view utf8);

struct ByteRange {
  size_t begin;
  size_t end;
};

// A compiled regular expression in the Oniguruma dialect tokenizer.json files carry, run by ICU.
// \s and \S mean Unicode White_Space as in Oniguruma (ICU's own \s differs for U+0085, U+000B).
// Thread-safe: each FindAll uses its own matcher.
class Regex {
 public:
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(absl::string_view pattern);
  ~Regex();
  // Non-overlapping matches left to right, as byte ranges of `utf8`; empty matches skipped.
  std::vector<ByteRange> FindAll(absl::string_view utf8) const;

 private:
  class Impl;
  explicit Regex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_UNICODE_H_
