#include "text/post_processor.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "text/json_fields.h"

namespace sinkscope::text {

using model::JsonValue;

namespace {

absl::Status AppendIds(const JsonValue& special_tokens, const std::string& name,
                       std::vector<int32_t>* out) {
  const JsonValue* t = special_tokens.is_object() ? special_tokens.Find(name) : nullptr;
  const JsonValue* ids = t != nullptr ? t->Find("ids") : nullptr;
  if (ids == nullptr || !ids->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "post_processor TemplateProcessing: special token \"", name, "\" has no ids"));
  }
  for (const JsonValue& id : ids->array()) {
    absl::StatusOr<int64_t> v = id.AsInt64();
    if (!v.ok()) return v.status();
    out->push_back(static_cast<int32_t>(*v));
  }
  return absl::OkStatus();
}

absl::Status Template(const JsonValue& json, SpecialTokensTemplate* t) {
  const JsonValue* single = json.Find("single");
  const JsonValue* special = json.Find("special_tokens");
  if (single == nullptr || !single->is_array() || special == nullptr) {
    return absl::InvalidArgumentError(
        "post_processor TemplateProcessing: needs \"single\" and \"special_tokens\"");
  }
  bool after_sequence = false;
  for (const JsonValue& item : single->array()) {
    if (const JsonValue* s = item.Find("SpecialToken"); s != nullptr) {
      absl::StatusOr<std::string> id = internal::StringField(*s, "id", "post_processor SpecialToken");
      if (!id.ok()) return id.status();
      if (absl::Status st = AppendIds(*special, *id, after_sequence ? &t->suffix : &t->prefix);
          !st.ok()) {
        return st;
      }
    } else if (item.Find("Sequence") != nullptr) {
      if (after_sequence) {
        return absl::InvalidArgumentError(
            "post_processor TemplateProcessing: \"single\" holds more than one sequence");
      }
      after_sequence = true;
    } else {
      return absl::InvalidArgumentError("post_processor TemplateProcessing: bad template item");
    }
  }
  return absl::OkStatus();
}

absl::Status Collect(const JsonValue* json, SpecialTokensTemplate* t) {
  if (json == nullptr || json->is_null()) return absl::OkStatus();
  absl::StatusOr<std::string> type = internal::TypeOf(*json, "post_processor");
  if (!type.ok()) return type.status();
  if (*type == "ByteLevel") return absl::OkStatus();  // offsets only
  if (*type == "TemplateProcessing") return Template(*json, t);
  if (*type == "RobertaProcessing" || *type == "BertProcessing") {
    const JsonValue* cls = json->Find("cls");
    const JsonValue* sep = json->Find("sep");
    if (cls == nullptr || sep == nullptr || !cls->is_array() || !sep->is_array() ||
        cls->array().size() != 2 || sep->array().size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("post_processor ", *type, ": bad cls / sep"));
    }
    absl::StatusOr<int64_t> c = cls->array()[1].AsInt64(), s = sep->array()[1].AsInt64();
    if (!c.ok() || !s.ok()) return absl::InvalidArgumentError(absl::StrCat("post_processor ", *type, ": bad ids"));
    t->prefix.push_back(static_cast<int32_t>(*c));
    t->suffix.push_back(static_cast<int32_t>(*s));
    return absl::OkStatus();
  }
  if (*type == "Sequence") {
    const JsonValue* list = json->Find("processors");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError("post_processor Sequence: \"processors\" must be an array");
    }
    for (const JsonValue& p : list->array()) {
      if (absl::Status st = Collect(&p, t); !st.ok()) return st;
    }
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrCat("unsupported post_processor type \"", *type, "\""));
}

}  // namespace

absl::StatusOr<SpecialTokensTemplate> MakeSpecialTokensTemplate(const JsonValue* json) {
  SpecialTokensTemplate t;
  if (absl::Status st = Collect(json, &t); !st.ok()) return st;
  return t;
}

}  // namespace sinkscope::text
