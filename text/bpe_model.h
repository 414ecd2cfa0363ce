// File: text/bpe_model.h
//
// bpe_model.h: the BPE "model" of a tokenizer.json: vocabulary, ranked merges, unk / fuse_unk,
// byte_fallback (<0xXX> tokens, SentencePiece-style) and ignore_merges (Llama 3, o200k: a word in
// the vocabulary is one token). A word's symbols (its characters) are merged lowest rank first
// (leftmost among equal ranks) over a linked list with a priority queue of candidate pairs; each
// word's ids are cached.
//
// Example:
//   absl::StatusOr<std::unique_ptr<BpeModel>> m = BpeModel::FromJson(*json.Find("model"));
//   std::vector<int32_t> ids;
//   (*m)->Encode("Ġworld", &ids);
#ifndef SINKSCOPE_TEXT_BPE_MODEL_H_
#define SINKSCOPE_TEXT_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/json.h"

namespace sinkscope::text {

class BpeModel {
 public:
  // From the tokenizer.json "model" object (type "BPE"; any other type is an error).
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const model::JsonValue& json);

  // Appends the ids of one pre-tokenized word.
  void Encode(absl::string_view word, std::vector<int32_t>* ids) const;

  // -1 when absent.
  int32_t TokenToId(absl::string_view token) const;
  // nullptr when the id has no token.
  const std::string* IdToToken(int32_t id) const;
  // One past the largest id.
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_token_.size()); }

 private:
  BpeModel() = default;
  void EncodeUncached(absl::string_view word, std::vector<int32_t>* ids) const;

  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  static uint64_t PairKey(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  absl::flat_hash_map<uint64_t, Merge> merges_;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_ids_{};  // <0xXX> token ids (-1: absent)

  static constexpr size_t kCacheMaxWords = 1 << 17;
  static constexpr size_t kCacheMaxWordBytes = 64;
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_BPE_MODEL_H_
