// File: text/json_fields.h
//
// json_fields.h: internal to text/ (do not depend on this): typed reads of tokenizer.json members
// whose errors name the member and the component they belong to.
#ifndef SINKSCOPE_TEXT_JSON_FIELDS_H_
#define SINKSCOPE_TEXT_JSON_FIELDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/json.h"

namespace sinkscope::text::internal {

// The object's "type" member.
inline absl::StatusOr<std::string> TypeOf(const model::JsonValue& v, absl::string_view what) {
  const model::JsonValue* t = v.is_object() ? v.Find("type") : nullptr;
  if (t == nullptr || !t->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " without a \"type\""));
  }
  return t->string_value();
}

inline absl::StatusOr<std::string> StringField(const model::JsonValue& v, absl::string_view key,
                                               absl::string_view what) {
  const model::JsonValue* f = v.Find(key);
  if (f == nullptr || !f->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"", key, "\" must be a string"));
  }
  return f->string_value();
}

inline bool BoolField(const model::JsonValue& v, absl::string_view key, bool fallback) {
  const model::JsonValue* f = v.Find(key);
  return f != nullptr && f->is_bool() ? f->bool_value() : fallback;
}

inline absl::StatusOr<int64_t> IntField(const model::JsonValue& v, absl::string_view key,
                                        absl::string_view what) {
  const model::JsonValue* f = v.Find(key);
  if (f == nullptr || !f->is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"", key, "\" must be a number"));
  }
  return f->AsInt64();
}

}  // namespace sinkscope::text::internal

#endif  // SINKSCOPE_TEXT_JSON_FIELDS_H_
