#include "quant/quantize.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {

namespace {

// Codes of a run sharing (stride 0) or stepping through (stride 1) parameters; returns how many
// saturated beyond half a step. Vectorises for stride 0.
int64_t QuantizeRun(const float* x, int64_t len, const float* scales, const int32_t* zps,
                    int64_t stride, int32_t qmin, int32_t qmax, uint8_t* out) {
  const float lo = static_cast<float>(qmin), hi = static_cast<float>(qmax);
  int64_t clipped = 0;
  if (stride == 0) {  // one scale for the run: the loop vectorises
    const float scale = scales[0], zp = static_cast<float>(zps[0]);
    for (int64_t k = 0; k < len; ++k) {
      const float scaled = x[k] / scale;
      clipped += (scaled + zp < lo - 0.5f) | (scaled + zp > hi + 0.5f);
      out[k] = static_cast<uint8_t>(
          static_cast<int32_t>(std::min(std::max(RoundHalfEven(scaled) + zp, lo), hi)) & 0xff);
    }
    return clipped;
  }
  for (int64_t k = 0; k < len; ++k) {
    // As QuantizeValue: round half to even, add the zero point, saturate.
    const float zp = static_cast<float>(zps[k * stride]);
    const float scaled = x[k] / scales[k * stride];
    const float unclamped = scaled + zp;
    clipped += (unclamped < lo - 0.5f) | (unclamped > hi + 0.5f);
    const float q = std::min(std::max(RoundHalfEven(scaled) + zp, lo), hi);
    out[k] = static_cast<uint8_t>(static_cast<int32_t>(q) & 0xff);
  }
  return clipped;
}

absl::StatusOr<QuantizedTensor> QuantizeChecked(const ConstTensorView& t,
                                                const QuantParams& params) {
  QuantizedTensor q;
  q.params = params;
  q.bytes.resize(t.size());
  const int32_t qmin = params.scheme.qmin();
  const int32_t qmax = params.scheme.qmax();
  int64_t clipped = 0;
  params.layout.ForEachRun([&](int64_t start, int64_t len, int64_t p, int64_t stride) {
    clipped += QuantizeRun(t.data + start, len, params.scales.data() + p,
                           params.zero_points.data() + p, stride, qmin, qmax,
                           q.bytes.data() + start);
  });
  q.clipped = clipped;
  return q;
}

}  // namespace

absl::StatusOr<QuantizedTensor> QuantizeWithParams(const ConstTensorView& t,
                                                   const QuantParams& params,
                                                   absl::string_view name) {
  if (t.shape != params.shape) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' ", ShapeToString(t.shape),
                                                   ": parameters were computed for shape ",
                                                   ShapeToString(params.shape)));
  }
  if (absl::Status st = CheckFinite(t, name); !st.ok()) return st;
  return QuantizeChecked(t, params);
}

absl::StatusOr<QuantizedTensor> Quantize(const ConstTensorView& t, const QuantScheme& scheme,
                                         absl::string_view name) {
  absl::StatusOr<QuantParams> params = ComputeQuantParams(t, scheme, name);  // checks finiteness
  if (!params.ok()) return params.status();
  return QuantizeChecked(t, *params);
}

namespace {

// Dequantizes q into out[0, size): per run, (code - zero point) * scale; a run sharing its
// parameters (stride 0) is a vectorisable loop.
void DequantizeInto(const QuantizedTensor& q, float* out) {
  const QuantParams& p = q.params;
  const bool is_signed = q.is_signed();
  p.layout.ForEachRun([&](int64_t start, int64_t len, int64_t param, int64_t stride) {
    const uint8_t* b = q.bytes.data() + start;
    float* o = out + start;
    if (stride == 0) {
      const float scale = p.scales[param];
      const int32_t zp = p.zero_points[param];
      if (is_signed) {
        for (int64_t k = 0; k < len; ++k) {
          o[k] = static_cast<float>(static_cast<int32_t>(static_cast<int8_t>(b[k])) - zp) * scale;
        }
      } else {
        for (int64_t k = 0; k < len; ++k) {
          o[k] = static_cast<float>(static_cast<int32_t>(b[k]) - zp) * scale;
        }
      }
      return;
    }
    for (int64_t k = 0; k < len; ++k) {
      o[k] = DequantizeValue(q.code(start + k), p.Param(param + k * stride));
    }
  });
}

}  // namespace

std::vector<float> Dequantize(const QuantizedTensor& q) {
  std::vector<float> out(q.bytes.size());
  DequantizeInto(q, out.data());
  return out;
}

FloatMatrix DequantizeMatrix(const QuantizedTensor& q) {
  // [all leading axes flattened, last axis].
  const Shape& s = q.shape();
  const int64_t cols = s.empty() ? 1 : s.back();
  const int64_t rows = cols > 0 ? NumElements(s) / cols : 0;
  FloatMatrix m(rows, cols);
  DequantizeInto(q, m.data());
  return m;
}

absl::StatusOr<FloatMatrix> FakeQuantize(const FloatMatrix& x, const QuantScheme& scheme,
                                         absl::string_view name) {
  absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(x), scheme, name);
  if (!q.ok()) return q.status();
  return DequantizeMatrix(*q);
}

absl::StatusOr<QuantizedTensor> TransposeQuantized(const QuantizedTensor& q) {
  const Shape& s = q.shape();
  const Granularity g = q.params.scheme.granularity;
  if (s.size() != 2 || (g != Granularity::kPerTensor && g != Granularity::kPerChannel)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TransposeQuantized: needs a rank-2 tensor quantized per tensor or per channel, got ",
        ShapeToString(s)));
  }
  const int64_t rows = s[0], cols = s[1];
  QuantizedTensor t;
  t.clipped = q.clipped;
  t.params.scheme = q.params.scheme;
  if (g == Granularity::kPerChannel) {
    const int axis = q.params.scheme.axis < 0 ? q.params.scheme.axis + 2 : q.params.scheme.axis;
    t.params.scheme.axis = 1 - axis;
  }
  t.params.shape = {cols, rows};
  absl::StatusOr<ParamLayout> layout = MakeParamLayout(t.params.scheme, t.params.shape);
  if (!layout.ok()) return layout.status();
  t.params.layout = *layout;
  t.params.scales = q.params.scales;
  t.params.zero_points = q.params.zero_points;
  t.bytes.resize(q.bytes.size());
  // Blocked so that both sides stay in cache.
  constexpr int64_t kBlock = 64;
  const uint8_t* src = q.bytes.data();
  uint8_t* dst = t.bytes.data();
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = std::min(rows, r0 + kBlock);
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t c1 = std::min(cols, c0 + kBlock);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
  return t;
}

}  // namespace sinkscope::quant
