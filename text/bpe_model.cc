#include "text/bpe_model.h"

#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "text/json_fields.h"
#include "text/unicode.h"

namespace sinkscope::text {

using model::JsonValue;

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const JsonValue& json) {
  absl::StatusOr<std::string> type = internal::TypeOf(json, "model");
  if (!type.ok()) {
    // Older files leave "type" out of BPE models; they carry "merges".
    if (json.is_object() && json.Find("merges") != nullptr && json.Find("vocab") != nullptr) {
      type = std::string("BPE");
    } else {
      return type.status();
    }
  }
  if (*type != "BPE") {
    return absl::UnimplementedError(absl::StrCat("unsupported model type \"", *type,
                                                 "\" (only BPE models are supported)"));
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const JsonValue* v = json.Find(key);
    if (v != nullptr && v->is_string() && !v->string_value().empty()) {
      return absl::UnimplementedError(absl::StrCat("model BPE: unsupported ", key, " \"",
                                                   v->string_value(), "\""));
    }
  }
  if (const JsonValue* d = json.Find("dropout"); d != nullptr && d->is_number() && d->number() > 0) {
    return absl::UnimplementedError("model BPE: dropout is not supported");
  }
  std::unique_ptr<BpeModel> m(new BpeModel);
  const JsonValue* vocab = json.Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return absl::InvalidArgumentError("model BPE: \"vocab\" must be an object");
  }
  m->vocab_.reserve(vocab->object().size());
  int64_t max_id = -1;
  for (const auto& [token, id_json] : vocab->object()) {
    absl::StatusOr<int64_t> id = id_json.AsInt64();
    if (!id.ok() || *id < 0 || *id > INT32_MAX - 1) {
      return absl::InvalidArgumentError(absl::StrCat("model BPE: bad id for token \"", token, "\""));
    }
    m->vocab_[token] = static_cast<int32_t>(*id);
    max_id = std::max(max_id, *id);
  }
  m->id_to_token_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [token, id] : m->vocab_) m->id_to_token_[id] = token;

  const JsonValue* merges = json.Find("merges");
  if (merges == nullptr || !merges->is_array()) {
    return absl::InvalidArgumentError("model BPE: \"merges\" must be an array");
  }
  m->merges_.reserve(merges->array().size());
  int32_t rank = 0;
  for (const JsonValue& merge : merges->array()) {
    std::string a, b;
    if (merge.is_string()) {
      const std::string& s = merge.string_value();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("model BPE: bad merge \"", s, "\""));
      }
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (merge.is_array() && merge.array().size() == 2 && merge.array()[0].is_string() &&
               merge.array()[1].is_string()) {
      a = merge.array()[0].string_value();
      b = merge.array()[1].string_value();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("model BPE: bad merge #", rank));
    }
    const int32_t ia = m->TokenToId(a), ib = m->TokenToId(b), iab = m->TokenToId(a + b);
    if (ia < 0 || ib < 0 || iab < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model BPE: merge \"", a, " ", b, "\" uses a token outside the vocabulary"));
    }
    m->merges_.try_emplace(PairKey(ia, ib), Merge{rank, iab});
    ++rank;
  }
  if (const JsonValue* unk = json.Find("unk_token"); unk != nullptr && unk->is_string()) {
    m->unk_id_ = m->TokenToId(unk->string_value());
    if (m->unk_id_ < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model BPE: unk_token \"", unk->string_value(), "\" is not in the vocabulary"));
    }
  }
  m->fuse_unk_ = internal::BoolField(json, "fuse_unk", false);
  m->byte_fallback_ = internal::BoolField(json, "byte_fallback", false);
  m->ignore_merges_ = internal::BoolField(json, "ignore_merges", false);
  for (int b = 0; b < 256; ++b) m->byte_ids_[b] = m->TokenToId(absl::StrFormat("<0x%02X>", b));
  return m;
}

int32_t BpeModel::TokenToId(absl::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::IdToToken(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return nullptr;
  const std::string& t = id_to_token_[id];
  // An id inside the range may still be a hole; holes are empty strings and no token is empty.
  return t.empty() ? nullptr : &t;
}

void BpeModel::Encode(absl::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const int32_t id = TokenToId(word); id >= 0) {
      ids->push_back(id);
      return;
    }
  }
  if (word.size() > kCacheMaxWordBytes) {
    EncodeUncached(word, ids);
    return;
  }
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = ids->size();
  EncodeUncached(word, ids);
  std::vector<int32_t> word_ids(ids->begin() + static_cast<long>(first), ids->end());
  absl::MutexLock lock(&cache_mu_);
  if (cache_.size() >= kCacheMaxWords) cache_.clear();
  cache_.try_emplace(word, std::move(word_ids));
}

void BpeModel::EncodeUncached(absl::string_view word, std::vector<int32_t>* ids) const {
  // The word's symbols: one per character, or per byte (<0xXX>) for characters outside the
  // vocabulary when byte_fallback is on, else unk (consecutive unks fused with fuse_unk).
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool mergeable;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&symbols](int32_t id, bool mergeable) {
    const int32_t n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1, mergeable});
  };
  size_t i = 0;
  while (i < word.size()) {
    const size_t start = i;
    i += std::min(Utf8Length(static_cast<uint8_t>(word[i])), word.size() - i);
    const absl::string_view ch = word.substr(start, i - start);
    if (const int32_t id = TokenToId(ch); id >= 0) {
      add(id, true);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : ch) all &= byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : ch) add(byte_ids_[static_cast<uint8_t>(c)], false);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (fuse_unk_ && !symbols.empty() && symbols.back().id == unk_id_ && !symbols.back().mergeable) {
        continue;
      }
      add(unk_id_, false);
    }
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t left_id;
    int32_t right_id;
    int32_t merged_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0) return;
    const Symbol& l = symbols[pos];
    if (l.next < 0 || !l.mergeable || !symbols[l.next].mergeable) return;
    auto it = merges_.find(PairKey(l.id, symbols[l.next].id));
    if (it != merges_.end()) {
      queue.push({it->second.rank, pos, l.id, symbols[l.next].id, it->second.merged_id});
    }
  };
  for (int32_t p = 0; p + 1 < static_cast<int32_t>(symbols.size()); ++p) consider(p);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[c.pos];
    // Stale candidates: the left symbol was merged away or changed, or its neighbour did.
    if (l.id != c.left_id || l.next < 0 || symbols[l.next].id != c.right_id) continue;
    const int32_t r = l.next;
    l.id = c.merged_id;
    l.next = symbols[r].next;
    if (l.next >= 0) symbols[l.next].prev = c.pos;
    symbols[r].id = -1;
    consider(l.prev);
    consider(c.pos);
  }
  for (int32_t p = 0; p >= 0; p = symbols[p].next) ids->push_back(symbols[p].id);
}

}  // namespace sinkscope::text
