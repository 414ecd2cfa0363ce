// File: text/pattern.h
//
// pattern.h: internal to text/ (do not depend on this): the {"String": s} | {"Regex": r} pattern
// that Replace and Split components carry, as a matcher returning byte ranges.
#ifndef SINKSCOPE_TEXT_PATTERN_H_
#define SINKSCOPE_TEXT_PATTERN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json.h"
#include "text/unicode.h"

namespace sinkscope::text::internal {

class Pattern {
 public:
  static absl::StatusOr<Pattern> FromJson(const model::JsonValue* json, absl::string_view what);
  // Non-overlapping matches, left to right.
  std::vector<ByteRange> FindAll(absl::string_view text) const;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace sinkscope::text::internal

#endif  // SINKSCOPE_TEXT_PATTERN_H_
