#include "attention/attention_weights.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace sinkscope::attention {
namespace {

absl::Status CheckMatrix(const char* name, const FloatMatrix& m, int64_t rows, int64_t cols) {
  if (m.rows() != rows || m.cols() != cols) {
    return absl::InvalidArgumentError(absl::StrCat("attention weight '", name, "' is ", m.rows(),
                                                   "x", m.cols(), ", the spec needs ", rows, "x",
                                                   cols));
  }
  if (!m.allFinite()) {
    return absl::InvalidArgumentError(absl::StrCat("attention weight '", name, "' has NaN or Inf"));
  }
  return absl::OkStatus();
}

absl::Status CheckVector(const char* name, const FloatVector& v, bool needed, int64_t size) {
  if (!needed) return absl::OkStatus();
  if (v.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat("attention weight '", name, "' has ", v.size(),
                                                   " entries, the spec needs ", size));
  }
  if (!v.allFinite()) {
    return absl::InvalidArgumentError(absl::StrCat("attention weight '", name, "' has NaN or Inf"));
  }
  return absl::OkStatus();
}

void Fill(FloatMatrix* m, int64_t rows, int64_t cols, float stddev, std::mt19937* rng) {
  std::normal_distribution<float> d(0.0f, stddev);
  m->resize(rows, cols);
  for (int64_t i = 0; i < m->size(); ++i) m->data()[i] = d(*rng);
}

void Fill(FloatVector* v, int64_t n, float mean, float stddev, std::mt19937* rng) {
  std::normal_distribution<float> d(mean, stddev);
  v->resize(n);
  for (int64_t i = 0; i < n; ++i) (*v)(i) = d(*rng);
}

}  // namespace

absl::Status ValidateWeights(const AttentionSpec& s, const AttentionWeights& w) {
  if (absl::Status st = ValidateSpec(s); !st.ok()) return st;
  const int64_t hd = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kvd = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  for (absl::Status st : {CheckMatrix("q_proj.weight", w.wq, hd, s.d_model),
                          CheckMatrix("k_proj.weight", w.wk, kvd, s.d_model),
                          CheckMatrix("v_proj.weight", w.wv, kvd, s.d_model),
                          CheckMatrix("o_proj.weight", w.wo, s.d_model, hd),
                          CheckVector("q_proj.bias", w.bq, s.q_bias, hd),
                          CheckVector("k_proj.bias", w.bk, s.k_bias, kvd),
                          CheckVector("v_proj.bias", w.bv, s.v_bias, kvd),
                          CheckVector("o_proj.bias", w.bo, s.o_bias, s.d_model)}) {
    if (!st.ok()) return st;
  }
  switch (s.variant) {
    case Variant::kSinkLogit:
      return CheckVector("sinks", w.sinks, true, s.num_heads);
    case Variant::kKvBias:
      if (absl::Status st = CheckMatrix("k_bias", w.k_bias, s.num_kv_heads, s.head_dim); !st.ok()) {
        return st;
      }
      return CheckMatrix("v_bias", w.v_bias, s.num_kv_heads, s.head_dim);
    case Variant::kSinkTokens:
      return CheckMatrix("sink_tokens", w.sink_tokens, s.num_sink_tokens, s.d_model);
    case Variant::kGated:
      if (absl::Status st = CheckMatrix("gate.weight", w.gate_w, s.num_heads, s.d_model); !st.ok()) {
        return st;
      }
      return CheckVector("gate.bias", w.gate_b, w.gate_b.size() > 0, s.num_heads);
    default:
      return absl::OkStatus();
  }
}

AttentionWeights RandomAttentionWeights(const AttentionSpec& s, uint32_t seed) {
  std::mt19937 rng(seed);
  AttentionWeights w;
  const int64_t hd = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kvd = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  const float in_scale = 1.0f / std::sqrt(static_cast<float>(s.d_model));
  Fill(&w.wq, hd, s.d_model, in_scale, &rng);
  Fill(&w.wk, kvd, s.d_model, in_scale, &rng);
  Fill(&w.wv, kvd, s.d_model, in_scale, &rng);
  Fill(&w.wo, s.d_model, hd, 1.0f / std::sqrt(static_cast<float>(hd)), &rng);
  if (s.q_bias) Fill(&w.bq, hd, 0.0f, 0.1f, &rng);
  if (s.k_bias) Fill(&w.bk, kvd, 0.0f, 0.1f, &rng);
  if (s.v_bias) Fill(&w.bv, kvd, 0.0f, 0.1f, &rng);
  if (s.o_bias) Fill(&w.bo, s.d_model, 0.0f, 0.1f, &rng);
  switch (s.variant) {
    case Variant::kSinkLogit:
      Fill(&w.sinks, s.num_heads, 1.0f, 1.0f, &rng);
      break;
    case Variant::kKvBias:
      Fill(&w.k_bias, s.num_kv_heads, s.head_dim, 1.0f, &rng);
      Fill(&w.v_bias, s.num_kv_heads, s.head_dim, 0.1f, &rng);
      break;
    case Variant::kSinkTokens:
      Fill(&w.sink_tokens, s.num_sink_tokens, s.d_model, 1.0f, &rng);
      break;
    case Variant::kGated:
      Fill(&w.gate_w, s.num_heads, s.d_model, in_scale, &rng);
      Fill(&w.gate_b, s.num_heads, 0.0f, 0.5f, &rng);
      break;
    default:
      break;
  }
  return w;
}

}  // namespace sinkscope::attention
