#include "text/added_vocabulary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "text/json_fields.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

bool IsWordChar(char32_t c) { return c == '_' || IsAlphanumeric(c); }

// The code point that ends just before text[pos].
char32_t PreviousCodePoint(absl::string_view text, size_t pos, size_t* start) {
  size_t s = pos - 1;
  while (s > 0 && (static_cast<uint8_t>(text[s]) & 0xC0) == 0x80) --s;
  *start = s;
  size_t i = s;
  return NextCodePoint(text, &i);
}

}  // namespace

absl::StatusOr<AddedVocabulary> AddedVocabulary::FromJson(const model::JsonValue* json,
                                                          bool match_special) {
  AddedVocabulary v;
  if (json == nullptr || json->is_null()) return v;
  if (!json->is_array()) return absl::InvalidArgumentError("\"added_tokens\" must be an array");
  for (const model::JsonValue& t : json->array()) {
    AddedToken a;
    absl::StatusOr<int64_t> id = internal::IntField(t, "id", "added_tokens");
    if (!id.ok()) return id.status();
    absl::StatusOr<std::string> content = internal::StringField(t, "content", "added_tokens");
    if (!content.ok()) return content.status();
    if (*id < 0 || *id > INT32_MAX || content->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("added_tokens: bad token id ", *id));
    }
    a.id = static_cast<int32_t>(*id);
    a.content = *std::move(content);
    a.special = internal::BoolField(t, "special", false);
    a.lstrip = internal::BoolField(t, "lstrip", false);
    a.rstrip = internal::BoolField(t, "rstrip", false);
    a.normalized = internal::BoolField(t, "normalized", !a.special);
    a.single_word = internal::BoolField(t, "single_word", false);
    v.max_id_ = std::max(v.max_id_, a.id);
    v.by_id_[a.id] = v.tokens_.size();
    v.tokens_.push_back(std::move(a));
  }
  for (size_t k = 0; k < v.tokens_.size(); ++k) {
    if (v.tokens_[k].special && !match_special) continue;
    v.by_first_byte_[static_cast<uint8_t>(v.tokens_[k].content[0])].push_back(static_cast<int>(k));
  }
  for (auto& list : v.by_first_byte_) {
    std::stable_sort(list.begin(), list.end(), [&v](int a, int b) {
      return v.tokens_[a].content.size() > v.tokens_[b].content.size();
    });
  }
  return v;
}

const AddedToken* AddedVocabulary::Find(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

int AddedVocabulary::FindAt(absl::string_view text, size_t pos, bool normalized) const {
  for (int k : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
    const AddedToken& t = tokens_[k];
    if (t.normalized != normalized) continue;
    if (text.compare(pos, t.content.size(), t.content) != 0) continue;
    if (t.single_word) {
      size_t s;
      if (pos > 0 && IsWordChar(PreviousCodePoint(text, pos, &s))) continue;
      size_t e = pos + t.content.size();
      if (e < text.size() && IsWordChar(NextCodePoint(text, &e))) continue;
    }
    return k;
  }
  return -1;
}

std::vector<Segment> AddedVocabulary::Split(absl::string_view text, bool normalized) const {
  std::vector<Segment> out;
  size_t plain_start = 0;  // start of the text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    const int k = FindAt(text, pos, normalized);
    if (k < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[k];
    size_t begin = pos, end = pos + t.content.size();
    if (t.lstrip) {
      while (begin > plain_start) {
        size_t s;
        if (!IsWhiteSpace(PreviousCodePoint(text, begin, &s))) break;
        begin = s;
      }
    }
    if (t.rstrip) {
      while (end < text.size()) {
        size_t e = end;
        if (!IsWhiteSpace(NextCodePoint(text, &e))) break;
        end = e;
      }
    }
    if (begin > plain_start) out.push_back({std::string(text.substr(plain_start, begin - plain_start)), -1});
    out.push_back({t.content, t.id});
    plain_start = pos = end;
  }
  if (plain_start < text.size()) out.push_back({std::string(text.substr(plain_start)), -1});
  return out;
}

}  // namespace sinkscope::text
