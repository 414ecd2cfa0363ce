#include "attention/attention_layer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "attention/rope.h"
#include "attention/variant_softmax.h"
#include "quant/sgemm.h"

namespace sinkscope::attention {
namespace {

const FloatMatrix& WeightOf(const AttentionWeights& w, Projection p) {
  switch (p) {
    case Projection::kQ:
      return w.wq;
    case Projection::kK:
      return w.wk;
    case Projection::kV:
      return w.wv;
    case Projection::kO:
      return w.wo;
  }
  return w.wq;
}

void AddBias(FloatMatrix* y, const FloatVector& b) {
  if (b.size() > 0) y->rowwise() += b.transpose();
}

absl::Status CheckShape(const char* what, const FloatMatrix& m, int64_t rows, int64_t cols) {
  if (m.rows() != rows || m.cols() != cols) {
    return absl::InternalError(absl::StrCat("backend returned ", what, " of ", m.rows(), "x",
                                            m.cols(), ", expected ", rows, "x", cols));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EigenBackend::Project(Projection which, const FloatMatrix& x, FloatMatrix* out) {
  quant::Sgemm(x, WeightOf(w_, which), /*transpose_b=*/true, out);
  return absl::OkStatus();
}

absl::Status EigenBackend::SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) {
  k_ = &k;
  v_ = &v;
  return absl::OkStatus();
}

absl::Status EigenBackend::Scores(const FloatMatrix& q, FloatMatrix* out) {
  quant::Sgemm(q, *k_, /*transpose_b=*/true, out);
  return absl::OkStatus();
}

absl::Status EigenBackend::Mix(const FloatMatrix& p, FloatMatrix* out) {
  quant::Sgemm(p, *v_, /*transpose_b=*/false, out);
  return absl::OkStatus();
}

absl::StatusOr<FloatMatrix> RunAttentionLayer(const AttentionSpec& s, const AttentionWeights& w,
                                              MatmulBackend& backend, const FloatMatrix& x,
                                              AttentionIntermediates* inter,
                                              int64_t query_block_rows) {
  if (x.cols() != s.d_model) {
    return absl::InvalidArgumentError(absl::StrCat("attention input has ", x.cols(),
                                                   " columns, d_model is ", s.d_model));
  }
  if (!x.allFinite()) return absl::InvalidArgumentError("attention input has NaN or Inf");
  const int64_t T = x.rows();
  const int H = s.num_heads, KVH = s.num_kv_heads, D = s.head_dim, G = s.group();
  const int n_sink = s.variant == Variant::kSinkTokens ? s.num_sink_tokens : 0;
  const int prefix = s.prefix_keys();
  const int64_t keys = prefix + T;

  // Projections. Sink tokens are projected with the sequence: their K/V are the layer's own.
  FloatMatrix kv_in;
  if (n_sink > 0) {
    kv_in.resize(n_sink + T, s.d_model);
    kv_in << w.sink_tokens, x;
  }
  const FloatMatrix& kv_src = n_sink > 0 ? kv_in : x;
  FloatMatrix q, k, v;
  if (absl::Status st = backend.Project(Projection::kQ, x, &q); !st.ok()) return st;
  if (absl::Status st = backend.Project(Projection::kK, kv_src, &k); !st.ok()) return st;
  if (absl::Status st = backend.Project(Projection::kV, kv_src, &v); !st.ok()) return st;
  if (absl::Status st = CheckShape("Q", q, T, int64_t{H} * D); !st.ok()) return st;
  if (absl::Status st = CheckShape("K", k, n_sink + T, int64_t{KVH} * D); !st.ok()) return st;
  if (absl::Status st = CheckShape("V", v, n_sink + T, int64_t{KVH} * D); !st.ok()) return st;
  AddBias(&q, w.bq);
  AddBias(&k, w.bk);
  AddBias(&v, w.bv);
  if (s.rope_theta > 0.0f) {
    std::vector<int64_t> pos_q(T), pos_k(n_sink + T);
    for (int64_t t = 0; t < T; ++t) pos_q[t] = n_sink + t;
    for (int64_t j = 0; j < n_sink + T; ++j) pos_k[j] = j;
    const RopeFrequencies freq = RopeInverseFrequencies(s);
    ApplyRope(&q, pos_q, H, D, freq, s.rope_layout);
    ApplyRope(&k, pos_k, KVH, D, freq, s.rope_layout);
  }
  FloatMatrix K, V;
  if (s.variant == Variant::kKvBias) {
    // The bias slot: one extra key/value row per kv head, no RoPE.
    K.resize(keys, int64_t{KVH} * D);
    V.resize(keys, int64_t{KVH} * D);
    for (int g = 0; g < KVH; ++g) {
      K.block(0, int64_t{g} * D, 1, D) = w.k_bias.row(g);
      V.block(0, int64_t{g} * D, 1, D) = w.v_bias.row(g);
    }
    K.bottomRows(T) = k;
    V.bottomRows(T) = v;
  } else {
    K = std::move(k);
    V = std::move(v);
  }

  FloatMatrix gates;
  if (s.variant == Variant::kGated) {
    gates = x * w.gate_w.transpose();
    if (w.gate_b.size() > 0) gates.rowwise() += w.gate_b.transpose();
    gates = (1.0f + (-gates.array()).exp()).inverse().matrix();
  }

  if (inter != nullptr) {
    inter->logits.assign(H, FloatMatrix());
    inter->probs.assign(H, FloatMatrix());
    inter->slot_mass.setZero(H, T);
  }
  if (inter != nullptr) {
    for (int h = 0; h < H; ++h) {
      inter->logits[h].resize(T, keys);
      inter->probs[h].resize(T, keys);
    }
  }
  const float scale = s.scale();
  FloatMatrix heads(T, int64_t{H} * D);
  // Queries go in blocks of `block` rows (times the group's G heads), so that the score block
  // stays about kBlockFloats floats, in cache, whatever T is.
  constexpr int64_t kBlockFloats = int64_t{1} << 20;
  const int64_t block = std::min<int64_t>(
      std::max<int64_t>(T, 1),
      query_block_rows > 0 ? query_block_rows
                           : std::max<int64_t>(16, kBlockFloats / (int64_t{G} * keys)));
  FloatMatrix kh, vh, qg, p, o;  // reused across blocks and kv heads
  for (int g = 0; g < KVH; ++g) {
    kh = K.middleCols(int64_t{g} * D, D);
    vh = V.middleCols(int64_t{g} * D, D);
    if (absl::Status st = backend.SetKeysValues(kh, vh); !st.ok()) return st;
    for (int64_t t0 = 0; t0 < T; t0 += block) {
      const int64_t B = std::min(block, T - t0);
      qg.resize(int64_t{G} * B, D);
      for (int m = 0; m < G; ++m) {
        qg.middleRows(int64_t{m} * B, B) = q.block(t0, int64_t{g * G + m} * D, B, D);
      }
      if (absl::Status st = backend.Scores(qg, &p); !st.ok()) return st;
      if (absl::Status st = CheckShape("scores", p, int64_t{G} * B, keys); !st.ok()) return st;
      for (int m = 0; m < G; ++m) {
        const int h = g * G + m;
        SoftmaxParams sp;
        sp.variant = s.variant;
        sp.sink_logit = s.variant == Variant::kSinkLogit ? w.sinks(h) : 0.0f;
        sp.zeta = s.clip_zeta;
        sp.gamma = s.clip_gamma;
        for (int64_t b = 0; b < B; ++b) {
          const int64_t t = t0 + b;
          float* row = p.data() + (int64_t{m} * B + b) * keys;
          // Visible sequence keys form one range [lo, hi] for every mask kind.
          const int64_t hi = s.mask == MaskKind::kNone ? T - 1 : t;
          const int64_t lo =
              s.mask == MaskKind::kSliding ? std::max<int64_t>(0, t - s.window + 1) : 0;
          Eigen::Map<Eigen::ArrayXf> r(row, keys);
          constexpr float kMasked = -std::numeric_limits<float>::infinity();
          r.head(prefix) *= scale;
          r.segment(prefix, lo).setConstant(kMasked);
          r.segment(prefix + lo, hi - lo + 1) *= scale;
          r.tail(T - 1 - hi).setConstant(kMasked);
          if (inter != nullptr) std::copy(row, row + keys, inter->logits[h].data() + t * keys);
          // Only the visible keys need the softmax: the prefix and [lo, hi] are contiguous when
          // lo == 0 (causal, no mask) or when there is no prefix (sliding window).
          float outside;
          if (lo == 0 || prefix == 0) {
            const int64_t first = lo == 0 ? 0 : prefix + lo;
            const int64_t last = prefix + hi;  // inclusive
            outside = VariantSoftmaxRow(row + first, last - first + 1, sp);
            r.head(first).setZero();  // (clipped softmax: clip(gamma <= 0) of 0 is 0 too)
            r.tail(keys - 1 - last).setZero();
          } else {
            outside = VariantSoftmaxRow(row, keys, sp);
          }
          if (inter != nullptr) {
            for (int j = 0; j < prefix; ++j) outside += row[j];
            inter->slot_mass(h, t) = outside;
            std::copy(row, row + keys, inter->probs[h].data() + t * keys);
          }
        }
      }
      if (absl::Status st = backend.Mix(p, &o); !st.ok()) return st;
      if (absl::Status st = CheckShape("P V", o, int64_t{G} * B, D); !st.ok()) return st;
      for (int m = 0; m < G; ++m) {
        const int h = g * G + m;
        auto dst = heads.block(t0, int64_t{h} * D, B, D);
        dst = o.middleRows(int64_t{m} * B, B);
        if (s.variant == Variant::kGated) {
          dst.array().colwise() *= gates.col(h).segment(t0, B).array();
        }
      }
    }
  }
  FloatMatrix y;
  if (absl::Status st = backend.Project(Projection::kO, heads, &y); !st.ok()) return st;
  if (absl::Status st = CheckShape("output", y, T, s.d_model); !st.ok()) return st;
  AddBias(&y, w.bo);
  if (inter != nullptr) {
    inter->q = std::move(q);
    inter->k = std::move(K);
    inter->v = std::move(V);
    inter->gates = std::move(gates);
    inter->heads = std::move(heads);
  }
  return y;
}

}  // namespace sinkscope::attention
