#include "text/pre_tokenizer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "text/byte_level.h"
#include "text/json_fields.h"
#include "text/pattern.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

using model::JsonValue;

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Span {
  size_t begin, end;
  bool is_match;
};

// The whole of `text` as alternating match / non-match spans.
std::vector<Span> Spans(absl::string_view text, const std::vector<ByteRange>& matches, bool invert) {
  std::vector<Span> spans;
  size_t pos = 0;
  for (const ByteRange& m : matches) {
    if (m.begin > pos) spans.push_back({pos, m.begin, invert});
    spans.push_back({m.begin, m.end, !invert});
    pos = m.end;
  }
  if (pos < text.size()) spans.push_back({pos, text.size(), invert});
  return spans;
}

void ApplyBehavior(absl::string_view text, const std::vector<Span>& spans, SplitBehavior behavior,
                   std::vector<std::string>* out) {
  std::vector<Span> merged;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Span& s : spans) {
        if (!s.is_match) merged.push_back(s);
      }
      break;
    case SplitBehavior::kIsolated:
      merged = spans;
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.is_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
      }
      break;
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (previous_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (!merged.empty() && merged.back().is_match == s.is_match) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
      }
      break;
  }
  for (const Span& s : merged) {
    if (s.end > s.begin) out->emplace_back(text.substr(s.begin, s.end - s.begin));
  }
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(internal::Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void PreTokenize(std::vector<std::string>* pieces, bool) const override {
    std::vector<std::string> out;
    for (const std::string& p : *pieces) {
      ApplyBehavior(p, Spans(p, pattern_.FindAll(p), invert_), behavior_, &out);
    }
    *pieces = std::move(out);
  }

 private:
  internal::Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// GPT-2's pre-tokenization regex, as the ByteLevel pre-tokenizer uses it (use_regex).
constexpr char kGpt2Regex[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
  void PreTokenize(std::vector<std::string>* pieces, bool) const override {
    std::vector<std::string> split;
    for (std::string& p : *pieces) {
      if (add_prefix_space_ && (p.empty() || p[0] != ' ')) p.insert(0, " ");
      if (regex_ != nullptr) {
        ApplyBehavior(p, Spans(p, regex_->FindAll(p), false), SplitBehavior::kIsolated, &split);
      } else {
        split.push_back(std::move(p));
      }
    }
    for (std::string& p : split) p = ByteLevelEncode(p);
    *pieces = std::move(split);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void PreTokenize(std::vector<std::string>* pieces, bool first_section) const override {
    std::vector<std::string> out;
    for (size_t k = 0; k < pieces->size(); ++k) {
      std::string p = absl::StrReplaceAll((*pieces)[k], {{" ", replacement_}});
      const bool prepend = scheme_ == PrependScheme::kAlways ||
                           (scheme_ == PrependScheme::kFirst && first_section && k == 0);
      if (prepend && p.compare(0, replacement_.size(), replacement_) != 0) {
        p.insert(0, replacement_);
      }
      if (!split_) {
        out.push_back(std::move(p));
        continue;
      }
      std::vector<ByteRange> m;
      for (size_t pos = p.find(replacement_); pos != std::string::npos;
           pos = p.find(replacement_, pos + replacement_.size())) {
        m.push_back({pos, pos + replacement_.size()});
      }
      ApplyBehavior(p, Spans(p, m, false), SplitBehavior::kMergedWithNext, &out);
    }
    *pieces = std::move(out);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void PreTokenize(std::vector<std::string>* pieces, bool) const override {
    std::vector<std::string> out;
    for (const std::string& p : *pieces) {
      // Runs of non-digits stay whole; digits are one piece each (individual) or per run.
      std::vector<Span> spans;
      size_t i = 0;
      while (i < p.size()) {
        const size_t start = i;
        const bool digit = IsNumeric(NextCodePoint(p, &i));
        if (!spans.empty() && spans.back().is_match == digit && (!digit || !individual_)) {
          spans.back().end = i;
        } else {
          spans.push_back({start, i, digit});
        }
      }
      ApplyBehavior(p, spans, SplitBehavior::kIsolated, &out);
    }
    *pieces = std::move(out);
  }

 private:
  bool individual_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void PreTokenize(std::vector<std::string>* pieces, bool first_section) const override {
    for (const auto& s : steps_) s->PreTokenize(pieces, first_section);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

absl::StatusOr<SplitBehavior> ParseBehavior(const JsonValue& json) {
  const JsonValue* b = json.Find("behavior");
  const std::string name = b != nullptr && b->is_string() ? b->string_value() : "";
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return absl::UnimplementedError(
      absl::StrCat("pre_tokenizer Split: unsupported behavior \"", name, "\""));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> MakePreTokenizer(const JsonValue* json) {
  if (json == nullptr || json->is_null()) return std::unique_ptr<PreTokenizer>();
  absl::StatusOr<std::string> type = internal::TypeOf(*json, "pre_tokenizer");
  if (!type.ok()) return type.status();
  const std::string what = absl::StrCat("pre_tokenizer ", *type);
  if (*type == "Split") {
    absl::StatusOr<internal::Pattern> pattern = internal::Pattern::FromJson(json->Find("pattern"), what);
    if (!pattern.ok()) return pattern.status();
    absl::StatusOr<SplitBehavior> behavior = ParseBehavior(*json);
    if (!behavior.ok()) return behavior.status();
    return std::make_unique<SplitPreTokenizer>(*std::move(pattern), *behavior,
                                               internal::BoolField(*json, "invert", false));
  }
  if (*type == "ByteLevel") {
    std::unique_ptr<Regex> regex;
    if (internal::BoolField(*json, "use_regex", true)) {
      absl::StatusOr<std::unique_ptr<Regex>> re = Regex::Compile(kGpt2Regex);
      if (!re.ok()) return re.status();
      regex = *std::move(re);
    }
    return std::make_unique<ByteLevelPreTokenizer>(
        internal::BoolField(*json, "add_prefix_space", true), std::move(regex));
  }
  if (*type == "Metaspace") {
    absl::StatusOr<std::string> replacement = internal::StringField(*json, "replacement", what);
    if (!replacement.ok()) return replacement.status();
    PrependScheme scheme = PrependScheme::kAlways;
    if (const JsonValue* s = json->Find("prepend_scheme"); s != nullptr && s->is_string()) {
      if (s->string_value() == "first") {
        scheme = PrependScheme::kFirst;
      } else if (s->string_value() == "never") {
        scheme = PrependScheme::kNever;
      } else if (s->string_value() != "always") {
        return absl::UnimplementedError(
            absl::StrCat(what, ": unsupported prepend_scheme \"", s->string_value(), "\""));
      }
    } else if (!internal::BoolField(*json, "add_prefix_space", true)) {
      scheme = PrependScheme::kNever;
    }
    return std::make_unique<MetaspacePreTokenizer>(*std::move(replacement), scheme,
                                                   internal::BoolField(*json, "split", true));
  }
  if (*type == "Digits") {
    return std::make_unique<DigitsPreTokenizer>(internal::BoolField(*json, "individual_digits", false));
  }
  if (*type == "Sequence") {
    const JsonValue* list = json->Find("pretokenizers");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError("pre_tokenizer Sequence: \"pretokenizers\" must be an array");
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const JsonValue& v : list->array()) {
      absl::StatusOr<std::unique_ptr<PreTokenizer>> s = MakePreTokenizer(&v);
      if (!s.ok()) return s.status();
      if (*s != nullptr) steps.push_back(*std::move(s));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported pre_tokenizer type \"", *type, "\""));
}

}  // namespace sinkscope::text
