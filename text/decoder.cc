#include "text/decoder.h"

#include <unicode/utf8.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "text/byte_level.h"
#include "text/json_fields.h"
#include "text/pattern.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

using model::JsonValue;

constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";

class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::string bytes;
    for (const std::string& t : *tokens) bytes += ByteLevelDecode(t);
    *tokens = {Utf8Lossy(bytes)};
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (size_t i = 0; i < tokens->size(); ++i) {
      std::string& t = (*tokens)[i];
      t = absl::StrReplaceAll(t, {{replacement_, " "}});
      if (i == 0 && strip_first_ && !t.empty() && t[0] == ' ') t.erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// "<0xAB>" -> 0xAB, else -1.
int ByteToken(const std::string& t) {
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  int v = 0;
  for (int k = 3; k < 5; ++k) {
    const char c = t[k];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (ValidateUtf8(pending).ok()) {
        out.push_back(pending);
      } else {
        for (size_t k = 0; k < pending_count; ++k) out.push_back(kReplacementCharacter);
      }
      pending.clear();
      pending_count = 0;
    };
    for (std::string& t : *tokens) {
      const int b = ByteToken(t);
      if (b >= 0) {
        pending.push_back(static_cast<char>(b));
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    *tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens) const override {
    *tokens = {absl::StrJoin(*tokens, "")};
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, int start, int stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& t : *tokens) {
      for (int k = 0; k < start_ && t.compare(0, content_.size(), content_) == 0; ++k) {
        t.erase(0, content_.size());
      }
      for (int k = 0; k < stop_ && t.size() >= content_.size() &&
                      t.compare(t.size() - content_.size(), content_.size(), content_) == 0;
           ++k) {
        t.erase(t.size() - content_.size());
      }
    }
  }

 private:
  std::string content_;
  int start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(internal::Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (std::string& t : *tokens) {
      std::string out;
      size_t pos = 0;
      for (const ByteRange& r : pattern_.FindAll(t)) {
        out.append(t, pos, r.begin - pos);
        out += content_;
        pos = r.end;
      }
      out.append(t, pos, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  internal::Pattern pattern_;
  std::string content_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void DecodeChain(std::vector<std::string>* tokens) const override {
    for (const auto& s : steps_) s->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::string Utf8Lossy(const std::string& bytes) {
  if (ValidateUtf8(bytes).ok()) return bytes;
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const int32_t n = static_cast<int32_t>(bytes.size());
  std::string out;
  int32_t i = 0;
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) {
      out += kReplacementCharacter;
    } else {
      out.append(bytes, start, i - start);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Decoder>> MakeDecoder(const JsonValue* json) {
  if (json == nullptr || json->is_null()) return std::unique_ptr<Decoder>();
  absl::StatusOr<std::string> type = internal::TypeOf(*json, "decoder");
  if (!type.ok()) return type.status();
  const std::string what = absl::StrCat("decoder ", *type);
  if (*type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (*type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (*type == "Fuse") return std::make_unique<FuseDecoder>();
  if (*type == "Metaspace") {
    absl::StatusOr<std::string> replacement = internal::StringField(*json, "replacement", what);
    if (!replacement.ok()) return replacement.status();
    bool strip = internal::BoolField(*json, "add_prefix_space", true);
    if (const JsonValue* s = json->Find("prepend_scheme"); s != nullptr && s->is_string()) {
      strip = s->string_value() != "never";
    }
    return std::make_unique<MetaspaceDecoder>(*std::move(replacement), strip);
  }
  if (*type == "Strip") {
    absl::StatusOr<std::string> content = internal::StringField(*json, "content", what);
    if (!content.ok()) return content.status();
    absl::StatusOr<int64_t> start = internal::IntField(*json, "start", what);
    if (!start.ok()) return start.status();
    absl::StatusOr<int64_t> stop = internal::IntField(*json, "stop", what);
    if (!stop.ok()) return stop.status();
    return std::make_unique<StripDecoder>(*std::move(content), static_cast<int>(*start),
                                          static_cast<int>(*stop));
  }
  if (*type == "Replace") {
    absl::StatusOr<internal::Pattern> pattern = internal::Pattern::FromJson(json->Find("pattern"), what);
    if (!pattern.ok()) return pattern.status();
    absl::StatusOr<std::string> content = internal::StringField(*json, "content", what);
    if (!content.ok()) return content.status();
    return std::make_unique<ReplaceDecoder>(*std::move(pattern), *std::move(content));
  }
  if (*type == "Sequence") {
    const JsonValue* list = json->Find("decoders");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError("decoder Sequence: \"decoders\" must be an array");
    }
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const JsonValue& v : list->array()) {
      absl::StatusOr<std::unique_ptr<Decoder>> s = MakeDecoder(&v);
      if (!s.ok()) return s.status();
      if (*s != nullptr) steps.push_back(*std::move(s));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported decoder type \"", *type, "\""));
}

}  // namespace sinkscope::text
