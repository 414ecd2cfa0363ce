#include "text/normalizer.h"

#include <unicode/unistr.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "text/json_fields.h"
#include "text/pattern.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

using model::JsonValue;

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  absl::Status Normalize(std::string* text) const override {
    absl::StatusOr<std::string> n = text::Normalize(form_, *text);
    if (!n.ok()) return n.status();
    *text = *std::move(n);
    return absl::OkStatus();
  }

 private:
  NormalizationForm form_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  absl::Status Normalize(std::string* text) const override {
    if (!text->empty()) text->insert(0, prefix_);
    return absl::OkStatus();
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(internal::Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  absl::Status Normalize(std::string* text) const override {
    const std::vector<ByteRange> m = pattern_.FindAll(*text);
    if (m.empty()) return absl::OkStatus();
    std::string out;
    size_t pos = 0;
    for (const ByteRange& r : m) {
      out.append(*text, pos, r.begin - pos);
      out += content_;
      pos = r.end;
    }
    out.append(*text, pos, std::string::npos);
    *text = std::move(out);
    return absl::OkStatus();
  }

 private:
  internal::Pattern pattern_;
  std::string content_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text->data(), static_cast<int32_t>(text->size())));
    text->clear();
    u.toLower().toUTF8String(*text);
    return absl::OkStatus();
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  absl::Status Normalize(std::string* text) const override {
    size_t begin = 0, end = text->size();
    if (left_) {
      while (begin < end) {
        size_t i = begin;
        if (!IsWhiteSpace(NextCodePoint(*text, &i))) break;
        begin = i;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<uint8_t>((*text)[start]) & 0xC0) == 0x80) --start;
        size_t i = start;
        if (!IsWhiteSpace(NextCodePoint(*text, &i))) break;
        end = start;
      }
    }
    *text = text->substr(begin, end - begin);
    return absl::OkStatus();
  }

 private:
  bool left_, right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  absl::Status Normalize(std::string* text) const override {
    for (const auto& s : steps_) {
      if (absl::Status st = s->Normalize(text); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> MakeNormalizer(const JsonValue* json) {
  if (json == nullptr || json->is_null()) return std::unique_ptr<Normalizer>();
  absl::StatusOr<std::string> type = internal::TypeOf(*json, "normalizer");
  if (!type.ok()) return type.status();
  const std::string what = absl::StrCat("normalizer ", *type);
  if (*type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfc);
  if (*type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfd);
  if (*type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkc);
  if (*type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkd);
  if (*type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (*type == "Strip") {
    return std::make_unique<StripNormalizer>(internal::BoolField(*json, "strip_left", true),
                                             internal::BoolField(*json, "strip_right", true));
  }
  if (*type == "Prepend") {
    absl::StatusOr<std::string> p = internal::StringField(*json, "prepend", what);
    if (!p.ok()) return p.status();
    return std::make_unique<PrependNormalizer>(*std::move(p));
  }
  if (*type == "Replace") {
    absl::StatusOr<internal::Pattern> pattern = internal::Pattern::FromJson(json->Find("pattern"), what);
    if (!pattern.ok()) return pattern.status();
    absl::StatusOr<std::string> content = internal::StringField(*json, "content", what);
    if (!content.ok()) return content.status();
    return std::make_unique<ReplaceNormalizer>(*std::move(pattern), *std::move(content));
  }
  if (*type == "Sequence") {
    const JsonValue* list = json->Find("normalizers");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError("normalizer Sequence: \"normalizers\" must be an array");
    }
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const JsonValue& v : list->array()) {
      absl::StatusOr<std::unique_ptr<Normalizer>> s = MakeNormalizer(&v);
      if (!s.ok()) return s.status();
      if (*s != nullptr) steps.push_back(*std::move(s));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported normalizer type \"", *type, "\""));
}

}  // namespace sinkscope::text
