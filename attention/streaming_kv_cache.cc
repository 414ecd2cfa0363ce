#include "attention/streaming_kv_cache.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "attention/rope.h"
#include "attention/variant_softmax.h"

namespace sinkscope::attention {
namespace {

using StridedMap = Eigen::Map<const FloatMatrix, 0, Eigen::OuterStride<>>;

bool AllFinite(const float* p, int64_t n) {
  return Eigen::Map<const Eigen::ArrayXf>(p, n).allFinite();
}

float Sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

}  // namespace

const char* CachePositionsName(CachePositions mode) {
  return mode == CachePositions::kWithinCache ? "within_cache" : "original";
}

// ---------------------------------------------------------------------------------------------
// StreamingKvCache

absl::StatusOr<StreamingKvCache> StreamingKvCache::Create(int num_kv_heads, int head_dim,
                                                          int n_sink, int window) {
  if (num_kv_heads <= 0 || head_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming KV cache: num_kv_heads (", num_kv_heads, ") and head_dim (", head_dim,
        ") must be positive"));
  }
  if (n_sink < 0 || window < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming KV cache: needs n_sink >= 0 and window >= 1 (the newest token must stay in "
        "the cache to attend to itself), got n_sink ",
        n_sink, ", window ", window));
  }
  if (int64_t{n_sink} + window > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError("streaming KV cache: n_sink + window overflows int");
  }
  StreamingKvCache c;
  c.num_kv_heads_ = num_kv_heads;
  c.head_dim_ = head_dim;
  c.n_sink_ = n_sink;
  c.window_ = window;
  c.keys_.setZero(c.capacity(), c.kv_dim());
  c.values_.setZero(c.capacity(), c.kv_dim());
  c.positions_.assign(c.capacity(), 0);
  return c;
}

absl::Status StreamingKvCache::Append(const float* k_pre_rope, const float* v,
                                      int64_t absolute_position) {
  if (!AllFinite(k_pre_rope, kv_dim()) || !AllFinite(v, kv_dim())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming KV cache: key or value of the token at position ", absolute_position,
        " has NaN or Inf"));
  }
  if (absolute_position < 0 ||
      (newest_row_ >= 0 && absolute_position <= positions_[newest_row_])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming KV cache: positions must be >= 0 and strictly increasing; got ",
        absolute_position, " after ", newest_row_ >= 0 ? positions_[newest_row_] : -1));
  }
  int row;
  if (sinks_kept_ < n_sink_) {
    row = sinks_kept_++;
  } else if (window_kept_ < window_) {
    row = n_sink_ + (ring_start_ + window_kept_++) % window_;
  } else {  // full: overwrite the oldest window entry
    row = n_sink_ + ring_start_;
    ring_start_ = (ring_start_ + 1) % window_;
  }
  std::copy(k_pre_rope, k_pre_rope + kv_dim(), keys_.data() + int64_t{row} * kv_dim());
  std::copy(v, v + kv_dim(), values_.data() + int64_t{row} * kv_dim());
  positions_[row] = absolute_position;
  newest_row_ = row;
  ++tokens_seen_;
  return absl::OkStatus();
}

absl::Status StreamingKvCache::Append(const Eigen::Ref<const Eigen::RowVectorXf>& k_pre_rope,
                                      const Eigen::Ref<const Eigen::RowVectorXf>& v,
                                      int64_t absolute_position) {
  if (k_pre_rope.size() != kv_dim() || v.size() != kv_dim()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming KV cache: key has ", k_pre_rope.size(), " and value ", v.size(),
        " entries, num_kv_heads * head_dim is ", kv_dim()));
  }
  return Append(k_pre_rope.data(), v.data(), absolute_position);
}

void StreamingKvCache::Clear() {
  sinks_kept_ = window_kept_ = ring_start_ = 0;
  newest_row_ = -1;
  tokens_seen_ = 0;
}

int StreamingKvCache::RowOf(int i) const {
  if (i < sinks_kept_) return i;
  return n_sink_ + (ring_start_ + (i - sinks_kept_)) % window_;
}

int StreamingKvCache::CacheIndexOfRow(int row) const {
  if (row < n_sink_) return row;
  return n_sink_ + (row - n_sink_ - ring_start_ + window_) % window_;
}

// ---------------------------------------------------------------------------------------------
// StreamingAttention

StreamingAttention::StreamingAttention(const AttentionSpec& spec,
                                       std::shared_ptr<const AttentionWeights> weights,
                                       StreamingKvCache cache, CachePositions mode)
    : spec_(spec), weights_(std::move(weights)), cache_(std::move(cache)), mode_(mode) {
  const int H = spec_.num_heads, KVH = spec_.num_kv_heads, D = spec_.head_dim;
  const int cap = cache_.capacity();
  rope_ = spec_.rope_theta > 0.0f;
  if (rope_) {
    const int half = D / 2;
    rope_freq_ = RopeInverseFrequencies(spec_);
    cos_.resize(half);
    sin_.resize(half);
    rotated_keys_.setZero(int64_t{KVH} * cap, D);
    q_rope_.setZero(int64_t{H} * D);
    q_window_rope_.setZero(int64_t{H} * D);
  }
  q_.setZero(int64_t{H} * D);
  k_.setZero(int64_t{KVH} * D);
  v_.setZero(int64_t{KVH} * D);
  heads_.setZero(int64_t{H} * D);
  if (spec_.variant == Variant::kGated) gates_.setZero(H);
  scores_.setZero(spec_.group(), int64_t{cap} + 1);
}

absl::StatusOr<StreamingAttention> StreamingAttention::Create(const AttentionSpec& spec,
                                                              AttentionWeights weights,
                                                              int n_sink, int window,
                                                              CachePositions mode) {
  if (absl::Status st = ValidateWeights(spec, weights); !st.ok()) return st;
  if (spec.variant == Variant::kSinkTokens) {
    return absl::InvalidArgumentError(
        "streaming attention: the sink_tokens variant is not streamed: in a streaming cache the "
        "sinks are the first n_sink tokens of the stream. Stream the sink tokens' embeddings "
        "first, with n_sink = num_sink_tokens and another variant (e.g. vanilla)");
  }
  if (spec.mask == MaskKind::kNone) {
    return absl::InvalidArgumentError(
        "streaming attention: a layer without a causal mask (mask none) cannot be decoded token "
        "by token");
  }
  absl::StatusOr<StreamingKvCache> cache =
      StreamingKvCache::Create(spec.num_kv_heads, spec.head_dim, n_sink, window);
  if (!cache.ok()) return cache.status();
  return StreamingAttention(spec, std::make_shared<const AttentionWeights>(std::move(weights)),
                            *std::move(cache), mode);
}

void StreamingAttention::Angles(int64_t position, float* c, float* s) const {
  RopeCosSin(position, rope_freq_, c, s);
}

void StreamingAttention::Rotate(const float* src, float* dst, int heads, int64_t dst_head_stride,
                                const float* c, const float* s) const {
  const int D = spec_.head_dim, half = D / 2;
  for (int h = 0; h < heads; ++h) {
    const float* x = src + int64_t{h} * D;
    float* y = dst + h * dst_head_stride;
    if (spec_.rope_layout == RopeLayout::kRotateHalf) {  // (i, i + D/2): vectorised halves
      Eigen::Map<const Eigen::ArrayXf> xa(x, half), xb(x + half, half), ca(c, half), sa(s, half);
      Eigen::Map<Eigen::ArrayXf> ya(y, half), yb(y + half, half);
      ya = xa * ca - xb * sa;
      yb = xa * sa + xb * ca;
    } else {  // (2i, 2i + 1)
      for (int i = 0; i < half; ++i) {
        const float xa = x[2 * i], xb = x[2 * i + 1];
        y[2 * i] = xa * c[i] - xb * s[i];
        y[2 * i + 1] = xa * s[i] + xb * c[i];
      }
    }
  }
}

absl::Status StreamingAttention::CheckInput(const Eigen::Ref<const Eigen::RowVectorXf>& x) const {
  if (x.size() != spec_.d_model) {
    return absl::InvalidArgumentError(absl::StrCat("streaming attention input has ", x.size(),
                                                   " entries, d_model is ", spec_.d_model));
  }
  if (!x.allFinite()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "streaming attention input at position ", tokens_streamed_, " has NaN or Inf"));
  }
  return absl::OkStatus();
}

int64_t StreamingAttention::RopePositionOfNewest() const {
  return mode_ == CachePositions::kOriginal ? cache_.OriginalPositionOfRow(cache_.newest_row())
                                            : cache_.tokens_seen() - 1;
}

absl::Status StreamingAttention::AppendKv(const float* k, const float* v, int64_t position) {
  if (absl::Status st = cache_.Append(k, v, position); !st.ok()) return st;
  if (rope_) {
    Angles(RopePositionOfNewest(), cos_.data(), sin_.data());
    const int64_t head_stride = int64_t{cache_.capacity()} * spec_.head_dim;
    Rotate(k, rotated_keys_.data() + int64_t{cache_.newest_row()} * spec_.head_dim,
           spec_.num_kv_heads, head_stride, cos_.data(), sin_.data());
  }
  return absl::OkStatus();
}

absl::StatusOr<FloatVector> StreamingAttention::Step(
    const Eigen::Ref<const Eigen::RowVectorXf>& x) {
  FloatVector y;
  if (absl::Status st = Step(x, &y); !st.ok()) return st;
  return y;
}

absl::Status StreamingAttention::Step(const Eigen::Ref<const Eigen::RowVectorXf>& x,
                                      FloatVector* y) {
  if (absl::Status st = CheckInput(x); !st.ok()) return st;
  const AttentionWeights& w = *weights_;
  const int H = spec_.num_heads, KVH = spec_.num_kv_heads, D = spec_.head_dim;
  const int G = spec_.group(), cap = cache_.capacity();
  const int64_t kv_dim = int64_t{KVH} * D;

  // Projections (x W^T + b) and the append.
  q_.noalias() = w.wq * x.transpose();
  k_.noalias() = w.wk * x.transpose();
  v_.noalias() = w.wv * x.transpose();
  if (w.bq.size() > 0) q_ += w.bq;
  if (w.bk.size() > 0) k_ += w.bk;
  if (w.bv.size() > 0) v_ += w.bv;
  const int64_t position = tokens_streamed_;
  if (absl::Status st = AppendKv(k_.data(), v_.data(), position); !st.ok()) return st;
  ++tokens_streamed_;
  const int n = cache_.size();

  // RoPE. Keys were rotated once, on append (AppendKv). q_rope_ is the query at its position in
  // the mode (kOriginal: its own; kWithinCache: size - 1), which the sinks and the KV-bias slot
  // (a key without RoPE) see. The window keys are rotated at append indices in kWithinCache
  // mode (see the header): once something has been evicted they need the query at the newest
  // append index instead, q_window_rope_.
  int sink_rows = 0;  // leading storage rows (the sinks) scored with q_rope_ when split
  bool split = false;
  if (rope_) {
    const int64_t q_position = mode_ == CachePositions::kOriginal ? position : n - 1;
    const int64_t q_window_position = RopePositionOfNewest();
    Angles(q_position, cos_.data(), sin_.data());
    Rotate(q_.data(), q_rope_.data(), H, D, cos_.data(), sin_.data());
    split = q_window_position != q_position;
    if (split) {
      sink_rows = cache_.n_sink();
      Angles(q_window_position, cos_.data(), sin_.data());
      Rotate(q_.data(), q_window_rope_.data(), H, D, cos_.data(), sin_.data());
    }
  }
  const FloatVector& q = rope_ ? q_rope_ : q_;
  const FloatVector& q_window = split ? q_window_rope_ : q;

  if (spec_.variant == Variant::kGated) {
    gates_.noalias() = w.gate_w * x.transpose();
    if (w.gate_b.size() > 0) gates_ += w.gate_b;
    for (int h = 0; h < H; ++h) gates_(h) = Sigmoid(gates_(h));
  }

  // Per kv head: scores of its G query heads against [bias slot;] every kept key (storage
  // order: the softmax and P V are sums over keys), variant softmax, P V.
  const bool kv_bias = spec_.variant == Variant::kKvBias;
  const int slot = kv_bias ? 1 : 0;
  const int64_t row_stride = scores_.cols();
  const float scale = spec_.scale();
  for (int g = 0; g < KVH; ++g) {
    Eigen::Map<const FloatMatrix> qg(q.data() + int64_t{g} * G * D, G, D);
    Eigen::Map<const FloatMatrix> qwg(q_window.data() + int64_t{g} * G * D, G, D);
    StridedMap kg = rope_ ? StridedMap(rotated_keys_.data() + int64_t{g} * cap * D, n, D,
                                       Eigen::OuterStride<>(D))
                          : StridedMap(cache_.keys().data() + int64_t{g} * D, n, D,
                                       Eigen::OuterStride<>(kv_dim));
    StridedMap vg(cache_.values().data() + int64_t{g} * D, n, D, Eigen::OuterStride<>(kv_dim));
    auto keys_scores = scores_.block(0, slot, G, n);
    if (sink_rows > 0) {
      keys_scores.leftCols(sink_rows).noalias() = qg * kg.topRows(sink_rows).transpose();
    }
    keys_scores.rightCols(n - sink_rows).noalias() = qwg * kg.bottomRows(n - sink_rows).transpose();
    if (kv_bias) scores_.col(0).head(G).noalias() = qg * w.k_bias.row(g).transpose();
    scores_.leftCols(slot + n) *= scale;
    for (int m = 0; m < G; ++m) {
      const int h = g * G + m;
      SoftmaxParams sp;
      sp.variant = spec_.variant;
      sp.sink_logit = spec_.variant == Variant::kSinkLogit ? w.sinks(h) : 0.0f;
      sp.zeta = spec_.clip_zeta;
      sp.gamma = spec_.clip_gamma;
      VariantSoftmaxRow(scores_.data() + m * row_stride, slot + n, sp);
    }
    Eigen::Map<FloatMatrix> og(heads_.data() + int64_t{g} * G * D, G, D);
    og.noalias() = keys_scores * vg;
    if (kv_bias) og.noalias() += scores_.col(0).head(G) * w.v_bias.row(g);
    if (spec_.variant == Variant::kGated) {
      for (int m = 0; m < G; ++m) og.row(m) *= gates_(g * G + m);
    }
  }

  y->resize(spec_.d_model);
  y->noalias() = w.wo * heads_;
  if (w.bo.size() > 0) *y += w.bo;
  return absl::OkStatus();
}

absl::Status StreamingAttention::Prefill(const FloatMatrix& x) {
  if (x.cols() != spec_.d_model) {
    return absl::InvalidArgumentError(absl::StrCat("streaming attention prefill has ", x.cols(),
                                                   " columns, d_model is ", spec_.d_model));
  }
  for (int64_t t = 0; t < x.rows(); ++t) {
    if (!AllFinite(x.data() + t * x.cols(), x.cols())) {
      return absl::InvalidArgumentError(absl::StrCat("streaming attention prefill row ", t,
                                                     " (position ", tokens_streamed_ + t,
                                                     ") has NaN or Inf"));
    }
  }
  // Rows that stay: those filling the remaining sink slots, then the last `window` rows.
  const int64_t T = x.rows();
  const int64_t sinks_left =
      std::max<int64_t>(0, cache_.n_sink() - std::min<int64_t>(cache_.tokens_seen(),
                                                                cache_.n_sink()));
  const int64_t sink_rows = std::min(sinks_left, T);
  const int64_t window_from = std::max(sink_rows, T - cache_.window());
  std::vector<int64_t> kept;
  kept.reserve(sink_rows + (T - window_from));
  for (int64_t t = 0; t < sink_rows; ++t) kept.push_back(t);
  for (int64_t t = window_from; t < T; ++t) kept.push_back(t);

  const AttentionWeights& w = *weights_;
  FloatMatrix xk(static_cast<int64_t>(kept.size()), spec_.d_model);
  for (size_t i = 0; i < kept.size(); ++i) xk.row(i) = x.row(kept[i]);
  FloatMatrix k = xk * w.wk.transpose();
  FloatMatrix v = xk * w.wv.transpose();
  if (w.bk.size() > 0) k.rowwise() += w.bk.transpose();
  if (w.bv.size() > 0) v.rowwise() += w.bv.transpose();
  for (size_t i = 0; i < kept.size(); ++i) {
    if (absl::Status st = AppendKv(k.row(i).data(), v.row(i).data(), tokens_streamed_ + kept[i]);
        !st.ok()) {
      return st;
    }
  }
  tokens_streamed_ += T;
  return absl::OkStatus();
}

void StreamingAttention::Reset() {
  cache_.Clear();
  tokens_streamed_ = 0;
}

}  // namespace sinkscope::attention
