#include "quant/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sinkscope::quant {
namespace {

// Scales stay normal floats: below this, x / scale could overflow or divide by zero.
constexpr float kMinScale = std::numeric_limits<float>::min();

// Value at nearest rank ceil(p/100 * n) (1-based) of `values`; reorders them.
float Percentile(absl::Span<float> values, double p) {
  const int64_t n = static_cast<int64_t>(values.size());
  int64_t rank = static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  rank = std::clamp<int64_t>(rank, 1, n);
  std::nth_element(values.begin(), values.begin() + (rank - 1), values.end());
  return values[rank - 1];
}

double QuantizationSquaredError(absl::Span<const float> values, ScaleAndZeroPoint p,
                                const QuantScheme& s) {
  const int32_t qmin = s.qmin();
  const int32_t qmax = s.qmax();
  double sse = 0.0;
  for (float x : values) {
    const double e = static_cast<double>(x) - DequantizeValue(QuantizeValue(x, p, qmin, qmax), p);
    sse += e * e;
  }
  return sse;
}

}  // namespace

ScaleAndZeroPoint ParamsFromRange(float lo, float hi, const QuantScheme& s) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  ScaleAndZeroPoint p;
  if (s.symmetric) {
    const float amax = std::max(-lo, hi);
    if (amax > 0.0f) p.scale = std::max(amax / static_cast<float>(s.qmax()), kMinScale);
    p.zero_point = 0;
    return p;
  }
  if (hi == lo) return p;  // all zeros
  // In double: hi - lo can overflow float for values near FLT_MAX.
  p.scale = std::max(static_cast<float>((static_cast<double>(hi) - lo) / (s.qmax() - s.qmin())),
                     kMinScale);
  // Integer zero point: 0.0 maps exactly to a code.
  const float zp = static_cast<float>(s.qmin()) - std::nearbyint(lo / p.scale);
  p.zero_point = static_cast<int32_t>(
      std::clamp(zp, static_cast<float>(s.qmin()), static_cast<float>(s.qmax())));
  return p;
}

ScaleAndZeroPoint CalibrateMinMax(float min_value, float max_value, const QuantScheme& s) {
  if (min_value == max_value && min_value != 0.0f) {
    // Constant group: code +-1 (away from the zero point) times |c| is exactly c.
    ScaleAndZeroPoint p;
    p.scale = std::fabs(min_value);
    // Symmetric: zero point 0, code sign(c). Asymmetric (codes from 0): c > 0 is code 1 over
    // zero point 0; c < 0 is code 0 under zero point 1.
    p.zero_point = (s.symmetric || min_value > 0.0f) ? 0 : 1;
    return p;
  }
  return ParamsFromRange(min_value, max_value, s);
}

ScaleAndZeroPoint CalibrateGroup(absl::Span<float> values, const QuantScheme& s) {
  if (values.empty()) return ScaleAndZeroPoint{};
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  const float min_value = *min_it;
  const float max_value = *max_it;
  if (min_value == max_value || s.calibration == Calibration::kMinMax) {
    return CalibrateMinMax(min_value, max_value, s);
  }
  if (s.calibration == Calibration::kPercentile) {
    if (s.symmetric) {
      std::vector<float> mags(values.size());
      std::transform(values.begin(), values.end(), mags.begin(),
                     [](float x) { return std::fabs(x); });
      const float amax = Percentile(absl::MakeSpan(mags), s.percentile);
      return ParamsFromRange(-amax, amax, s);
    }
    const float hi = Percentile(values, s.percentile);
    const float lo = Percentile(values, 100.0 - s.percentile);
    return ParamsFromRange(lo, hi, s);
  }
  // MSE-optimal clipping: shrink the min-max range by candidate ratios.
  ScaleAndZeroPoint best = ParamsFromRange(min_value, max_value, s);
  double best_sse = QuantizationSquaredError(values, best, s);
  const int n = s.mse_candidates;
  for (int i = 1; i < n; ++i) {
    const float r = static_cast<float>(n - i) / static_cast<float>(n);
    const ScaleAndZeroPoint p = ParamsFromRange(r * min_value, r * max_value, s);
    const double sse = QuantizationSquaredError(values, p, s);
    if (sse < best_sse) {
      best_sse = sse;
      best = p;
    }
  }
  return best;
}

}  // namespace sinkscope::quant
