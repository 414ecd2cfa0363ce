#include "text/pattern.h"

#include "absl/strings/str_cat.h"

namespace sinkscope::text::internal {

absl::StatusOr<Pattern> Pattern::FromJson(const model::JsonValue* json, absl::string_view what) {
  Pattern p;
  if (json != nullptr && json->is_object()) {
    if (const model::JsonValue* s = json->Find("String"); s != nullptr && s->is_string()) {
      if (s->string_value().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": empty String pattern"));
      }
      p.literal_ = s->string_value();
      return p;
    }
    if (const model::JsonValue* r = json->Find("Regex"); r != nullptr && r->is_string()) {
      absl::StatusOr<std::unique_ptr<Regex>> re = Regex::Compile(r->string_value());
      if (!re.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", re.status().message()));
      p.regex_ = std::shared_ptr<const Regex>(std::move(*re));
      return p;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}"));
}

std::vector<ByteRange> Pattern::FindAll(absl::string_view text) const {
  if (regex_ != nullptr) return regex_->FindAll(text);
  std::vector<ByteRange> out;
  for (size_t pos = text.find(literal_); pos != absl::string_view::npos;
       pos = text.find(literal_, pos + literal_.size())) {
    out.push_back({pos, pos + literal_.size()});
  }
  return out;
}

}  // namespace sinkscope::text::internal
