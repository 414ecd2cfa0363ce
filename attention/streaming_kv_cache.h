// File: attention/streaming_kv_cache.h
//
// streaming_kv_cache.h: token-by-token decoding of one attention layer over a bounded KV cache
// (StreamingLLM, Xiao et al. 2024). The cache keeps the first n_sink tokens ever appended (the
// attention sinks, never evicted) and a rolling window of the most recent `window` tokens (a ring
// buffer: appending to a full cache overwrites the oldest window token in place, O(1)). Keys are
// stored before RoPE. Every kept key is visible to the query: the cache is the mask.
//
// Positions (CachePositions):
//   kWithinCache: StreamingLLM. Kept entries get positions 0..size-1 in cache order (sinks, then
//                 window tokens oldest to newest), reassigned at every step, and the query, the
//                 newest token, gets size-1.
//   kOriginal:    every key keeps the absolute stream position it had when appended and the query
//                 uses its own (llama.cpp without context shift).
// While nothing has been evicted the two coincide, and both equal RunAttentionLayer's causal
// layer on the whole sequence. RoPE angles are computed in double (positions reach 1e5+), with
// the spec's RoPE scaling (rope.h).
// No key is re-rotated per step in either mode. RoPE scores depend only on the query-key position
// difference, and a window key's difference in cache positions, i - (size-1), equals its append
// index minus the newest token's (the window holds consecutive appends). So kWithinCache keys are
// rotated once, on append, at their append index (sink i at i); the query is rotated at size-1
// for the sinks and the KV-bias slot (no RoPE) and, once something has been evicted, a second time
// at the newest append index for the window keys. kOriginal rotates keys and the query at absolute
// positions. This is the within-cache attention exactly, up to float rounding (tested against a
// from-scratch one).
//
// StreamingAttention runs the layer of an AttentionSpec one token at a time: project q, k, v,
// append k (pre-RoPE) and v, rotate, variant softmax over [KV-bias slot;] cached keys, P V, gate,
// output projection. Cost per token is O(capacity), independent of how many tokens have streamed:
// buffers are sized once at Create and no step recomputes anything over the stream.
//   Variants: vanilla, kv_bias (the bias slot is a key always present, without RoPE), sink_logit,
//   softmax1, clipped_softmax, gated, sigmoid (its bias -ln n counts the keys in the cache). kSinkTokens is rejected: in a streaming cache the sink
//   tokens are the first n_sink tokens of the stream; stream their embeddings first instead.
//   Masks: kCausal and kSliding stream (the cache replaces the spec's mask; a sliding layer of
//   window W is streamed exactly with n_sink = 0, window = W); kNone (bidirectional) is rejected.
//   GQA: query head h uses kv head h / group.
//
// Example:
//   absl::StatusOr<StreamingAttention> layer = StreamingAttention::Create(
//       spec, RandomAttentionWeights(spec, 7), /*n_sink=*/4, /*window=*/1020,
//       CachePositions::kWithinCache);
//   for (int64_t t = 0; t < x.rows(); ++t) {
//     absl::StatusOr<FloatVector> y = layer->Step(x.row(t));   // [d_model]
//   }
//   const StreamingKvCache& cache = layer->cache();
//   for (int i = 0; i < cache.size(); ++i) Use(cache.KeyAt(i), cache.OriginalPositionAt(i));
#ifndef SINKSCOPE_ATTENTION_STREAMING_KV_CACHE_H_
#define SINKSCOPE_ATTENTION_STREAMING_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "attention/rope_scaling.h"

namespace sinkscope::attention {

enum class CachePositions { kWithinCache, kOriginal };

const char* CachePositionsName(CachePositions mode);  // "within_cache", "original"

// One layer's kept keys (before RoPE) and values, [num_kv_heads * head_dim] per token.
//
// Storage rows 0..size()-1 are always the occupied ones: sinks in rows 0..n_sink-1, the window
// as a ring in rows n_sink..capacity-1. Attention is order-free (a sum over keys), so a decode
// step may read storage rows directly; "cache order" (sinks, then window oldest to newest) is
// what positions in kWithinCache mode are assigned from.
class StreamingKvCache {
 public:
  // Errors: num_kv_heads, head_dim <= 0; n_sink < 0; window < 1 (the newest token must stay in
  // the cache to attend to itself), which also rejects n_sink + window == 0.
  static absl::StatusOr<StreamingKvCache> Create(int num_kv_heads, int head_dim, int n_sink,
                                                 int window);

  // Appends one token: its key before RoPE and its value, kv_dim() floats each, and its absolute
  // stream position (strictly increasing across appends, >= 0; gaps are allowed). The first
  // n_sink appends become the sinks; later ones go into the window, evicting its oldest entry
  // when full. Errors: non-finite key or value, position not increasing.
  absl::Status Append(const float* k_pre_rope, const float* v, int64_t absolute_position);
  absl::Status Append(const Eigen::Ref<const Eigen::RowVectorXf>& k_pre_rope,
                      const Eigen::Ref<const Eigen::RowVectorXf>& v, int64_t absolute_position);

  // Forgets every token; capacity and buffers are kept.
  void Clear();

  int size() const { return sinks_kept_ + window_kept_; }
  int capacity() const { return n_sink_ + window_; }
  int n_sink() const { return n_sink_; }
  int window() const { return window_; }
  int num_kv_heads() const { return num_kv_heads_; }
  int head_dim() const { return head_dim_; }
  int kv_dim() const { return num_kv_heads_ * head_dim_; }
  // Appends so far (kept or evicted).
  int64_t tokens_seen() const { return tokens_seen_; }

  // Storage row of the i-th kept entry in cache order (0 <= i < size()), and the inverse.
  int RowOf(int i) const;
  int CacheIndexOfRow(int row) const;
  // Storage row the last Append wrote (-1 before any).
  int newest_row() const { return newest_row_; }

  // The i-th kept entry in cache order: key (pre-RoPE) and value, kv_dim() floats each.
  const float* KeyAt(int i) const { return keys_.data() + int64_t{RowOf(i)} * kv_dim(); }
  const float* ValueAt(int i) const { return values_.data() + int64_t{RowOf(i)} * kv_dim(); }
  int64_t OriginalPositionAt(int i) const { return positions_[RowOf(i)]; }
  // The position RoPE uses for entry i: i (kWithinCache) or its original position (kOriginal).
  int64_t PositionAt(int i, CachePositions mode) const {
    return mode == CachePositions::kWithinCache ? i : OriginalPositionAt(i);
  }

  // Storage: [capacity x kv_dim], rows 0..size()-1 occupied (see RowOf); positions per row.
  const FloatMatrix& keys() const { return keys_; }
  const FloatMatrix& values() const { return values_; }
  int64_t OriginalPositionOfRow(int row) const { return positions_[row]; }

 private:
  StreamingKvCache() = default;

  int num_kv_heads_ = 0, head_dim_ = 0, n_sink_ = 0, window_ = 0;
  FloatMatrix keys_, values_;
  std::vector<int64_t> positions_;
  int sinks_kept_ = 0;   // <= n_sink
  int window_kept_ = 0;  // <= window
  int ring_start_ = 0;   // ring index (0..window-1) of the oldest window entry
  int newest_row_ = -1;
  int64_t tokens_seen_ = 0;
};

// One attention layer decoded token by token over a StreamingKvCache (see the file comment).
class StreamingAttention {
 public:
  // Copies the weights. Errors: invalid spec or weights (naming the tensor), kSinkTokens,
  // MaskKind::kNone, and the cache's errors (n_sink < 0, window < 1).
  static absl::StatusOr<StreamingAttention> Create(const AttentionSpec& spec,
                                                   AttentionWeights weights, int n_sink,
                                                   int window, CachePositions mode);

  // Decodes the next token of the stream (absolute position tokens_streamed()): x [d_model] ->
  // y [d_model]. Errors: wrong size, NaN or Inf in x. The overload writing into `y` does not
  // allocate once y has d_model entries.
  absl::StatusOr<FloatVector> Step(const Eigen::Ref<const Eigen::RowVectorXf>& x);
  absl::Status Step(const Eigen::Ref<const Eigen::RowVectorXf>& x, FloatVector* y);

  // Streams the rows of x [T x d_model] as context without computing their outputs: the cache
  // ends exactly as after T Steps. Only the rows that stay in the cache (the sinks and the last
  // `window`) are projected, so reaching a far position costs O(T * d_model) to check the input
  // plus O(capacity) projections. cache().tokens_seen() counts the rows actually appended;
  // tokens_streamed() counts them all. Errors: as Step, for any row.
  absl::Status Prefill(const FloatMatrix& x);

  // Forgets the stream (position back to 0).
  void Reset();

  const AttentionSpec& spec() const { return spec_; }
  const AttentionWeights& weights() const { return *weights_; }
  CachePositions mode() const { return mode_; }
  const StreamingKvCache& cache() const { return cache_; }
  // Tokens streamed so far (Step and Prefill); the next token's absolute position.
  int64_t tokens_streamed() const { return tokens_streamed_; }

 private:
  StreamingAttention(const AttentionSpec& spec, std::shared_ptr<const AttentionWeights> weights,
                     StreamingKvCache cache, CachePositions mode);

  absl::Status CheckInput(const Eigen::Ref<const Eigen::RowVectorXf>& x) const;
  // Appends one token's projected k (pre-RoPE) and v; with RoPE also stores the key rotated at
  // its rotation position (RopePositionOfNewest).
  absl::Status AppendKv(const float* k, const float* v, int64_t position);
  // Where the newest cached token is rotated: its absolute position (kOriginal) or its append
  // index (kWithinCache; see the file comment).
  int64_t RopePositionOfNewest() const;
  // c[i], s[i] = A cos, A sin of position * inv_freq[i] (rope.h RopeCosSin), i < head_dim/2.
  void Angles(int64_t position, float* c, float* s) const;
  // Rotates `heads` head vectors of head_dim floats at src (contiguous) into dst (head h at
  // dst + h * dst_head_stride) with the cos/sin c, s of one position; src and dst do not overlap.
  void Rotate(const float* src, float* dst, int heads, int64_t dst_head_stride, const float* c,
              const float* s) const;

  AttentionSpec spec_;
  std::shared_ptr<const AttentionWeights> weights_;
  StreamingKvCache cache_;
  CachePositions mode_;
  int64_t tokens_streamed_ = 0;
  bool rope_ = false;

  // RoPE inverse frequencies (in double) and attention factor A, with the spec's scaling.
  RopeFrequencies rope_freq_;
  // Keys with RoPE, head-major [num_kv_heads x capacity x head_dim] by storage row, written on
  // append. Unused without RoPE.
  FloatMatrix rotated_keys_;
  // Per-step scratch, sized at Create. q_rope_: the query at its position in the mode;
  // q_window_rope_: at the newest append index, for the window keys (kWithinCache after an
  // eviction).
  FloatVector q_, q_rope_, q_window_rope_, k_, v_, heads_, gates_;
  std::vector<float> cos_, sin_;
  FloatMatrix scores_;  // [group x (1 + capacity)]
};

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_STREAMING_KV_CACHE_H_
