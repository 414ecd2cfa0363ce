#include "attention/variant_softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace sinkscope::attention {
namespace {

// Terms below e^-80 (relative to the largest, which is 1) become exactly 0: they are far below
// float resolution, and as denormals they would slow every later product by orders of magnitude.
constexpr float kCutoff = -80.0f;
constexpr int kLanes = 16;

// exp(d) for d in [kCutoff, 0]: d = k ln2 + r with |r| <= ln2/2, exp(r) by the Cephes expf
// polynomial (relative error ~1e-7), 2^k assembled in the exponent bits. Branch-free so that
// the loops below vectorise.
inline float ExpNonPositive(float d) {
  const float k = (d * 1.44269504f + 12582912.0f) - 12582912.0f;  // round(d / ln2), half even
  const float r = (d - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;  // k in [-116, 0]: a normal 2^k
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return e * scale;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float RowMax(const float* x,
                                                                           int64_t n) {
  float lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lane[l] = std::max(lane[l], x[i + l]);
  }
  float m = -std::numeric_limits<float>::infinity();
  for (; i < n; ++i) m = std::max(m, x[i]);
  for (int l = 0; l < kLanes; ++l) m = std::max(m, lane[l]);
  return m;
}

// x[i] = exp(max(x[i] - m, cutoff)) - e^cutoff, at least 0 (so entries at or below the cutoff and
// masked -inf entries are exactly 0); returns the sum.
__attribute__((target_clones("avx512f", "avx2", "default"))) float ExpShiftSum(float* x,
                                                                              int64_t n, float m,
                                                                              float floor) {
  float lane[kLanes] = {0};
  const auto one = [&](float v) {
    const float d = std::max(v - m, kCutoff);
    return std::max(ExpNonPositive(d) - floor, 0.0f);
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float e = one(x[i + l]);
      x[i + l] = e;
      lane[l] += e;
    }
  }
  float sum = 0.0f;
  for (; i < n; ++i) {
    x[i] = one(x[i]);
    sum += x[i];
  }
  for (int l = 0; l < kLanes; ++l) sum += lane[l];
  return sum;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void Scale(float* x, int64_t n,
                                                                         float s) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

// sigmoid(z + bias) for the finite entries, 0 for -inf (invisible keys). exp(-|x|) is the
// polynomial above, cut at e^-80 like the softmax's terms: sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0,
// e^-|x| / (1 + e^-|x|) below.
void SigmoidRow(float* row, int64_t n) {
  int64_t visible = 0;
  for (int64_t i = 0; i < n; ++i) visible += std::isfinite(row[i]) ? 1 : 0;
  if (visible == 0) {
    std::fill(row, row + n, 0.0f);
    return;
  }
  const float bias = -std::log(static_cast<float>(visible));
  const float floor = ExpNonPositive(kCutoff);
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(row[i])) {
      row[i] = 0.0f;
      continue;
    }
    const float x = row[i] + bias;
    const float e = std::max(ExpNonPositive(std::max(-std::abs(x), kCutoff)) - floor, 0.0f);
    row[i] = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  }
}

}  // namespace

float VariantSoftmaxRow(float* row, int64_t n, const SoftmaxParams& p) {
  if (p.variant == Variant::kSigmoid) {
    SigmoidRow(row, n);
    return 0.0f;
  }
  const bool has_sink = p.variant == Variant::kSinkLogit || p.variant == Variant::kSoftmax1;
  const float sink = p.variant == Variant::kSoftmax1 ? 0.0f : p.sink_logit;
  float m = RowMax(row, n);
  if (has_sink) m = std::max(m, sink);
  if (!std::isfinite(m)) {  // nothing visible (and no sink)
    std::fill(row, row + n, 0.0f);
    return 0.0f;
  }
  const float floor = ExpNonPositive(kCutoff);
  const float sink_term =
      has_sink ? std::max(ExpNonPositive(std::max(sink - m, kCutoff)) - floor, 0.0f) : 0.0f;
  const float denom = ExpShiftSum(row, n, m, floor) + sink_term;
  Scale(row, n, 1.0f / denom);
  if (p.variant == Variant::kClippedSoftmax) {
    for (int64_t i = 0; i < n; ++i) {
      row[i] = std::min(std::max((p.zeta - p.gamma) * row[i] + p.gamma, 0.0f), 1.0f);
    }
  }
  return sink_term / denom;
}

}  // namespace sinkscope::attention
