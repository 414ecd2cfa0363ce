// File: base/json.h
//
// json.h: a small strict JSON parser (RFC 8259) for safetensors headers and config.json.
// Strict: no comments, no trailing commas, no NaN literals, duplicate object keys are an error,
// nesting depth is bounded. Numbers keep their source text so that 64-bit integers (tensor
// offsets) are read exactly. Errors carry the byte offset.
//
// Example:
//   absl::StatusOr<JsonValue> v = ParseJson(R"({"a": [1, 2.5], "b": "x"})");
//   int64_t first = *v->Find("a")->array()[0].AsInt64();
#ifndef SINKSCOPE_BASE_JSON_H_
#define SINKSCOPE_BASE_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::model {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  // String value, or the number's source text.
  const std::string& string_value() const { return text_; }
  double number() const { return number_; }
  // The number as an exact int64: errors for fractions, exponents or out-of-range values.
  absl::StatusOr<int64_t> AsInt64() const;
  const std::vector<JsonValue>& array() const { return array_; }
  // Object members in source order.
  const std::vector<std::pair<std::string, JsonValue>>& object() const { return object_; }
  // Member `key` of an object, or nullptr.
  const JsonValue* Find(absl::string_view key) const;

  static const char* TypeName(Type t);

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  std::string text_;
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

// Parses one JSON document (surrounding whitespace allowed). max_depth bounds nesting.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text, int max_depth = 64);

}  // namespace sinkscope::model

#endif  // SINKSCOPE_BASE_JSON_H_
