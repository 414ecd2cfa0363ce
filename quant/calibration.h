// File: quant/calibration.h
//
// calibration.h: choosing the clipping range of one group of values (all values that share a
// scale), and turning a range into a scale and zero point.
//
//   min-max:    [min, max];
//   percentile: symmetric: |x| <= the p-th percentile of |x|; asymmetric: [P_(100-p), P_p];
//   MSE:        the min-max range scaled by the ratio r in {1, 1 - 1/n, ..., 1/n} that minimises
//               sum (x - dequant(quant(x)))^2 over the group (n = scheme.mse_candidates).
// A range always contains 0 so that 0.0 is exactly representable.
//
// Example:
//   std::vector<float> v = {...};
//   ScaleAndZeroPoint p = CalibrateGroup(absl::MakeSpan(v), QuantScheme{}.WithMseClip());
#ifndef SINKSCOPE_QUANT_CALIBRATION_H_
#define SINKSCOPE_QUANT_CALIBRATION_H_

#include <cstdint>

#include "absl/types/span.h"
#include "quant/quant_scheme.h"

namespace sinkscope::quant {

struct ScaleAndZeroPoint {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Scale and zero point that map the range [lo, hi] (lo <= 0 <= hi after widening) onto the
// scheme's code range. A degenerate range gives scale 1 (every value is 0 then).
ScaleAndZeroPoint ParamsFromRange(float lo, float hi, const QuantScheme& scheme);

// Round half to even without a libm call (vectorisable): exact for |v| < 2^22 in the default
// rounding mode; larger magnitudes only ever saturate, which they still do.
inline float RoundHalfEven(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (v + kMagic) - kMagic;
}

// Quantization of one value with given parameters: round half to even, then saturate.
inline int32_t QuantizeValue(float x, ScaleAndZeroPoint p, int32_t qmin, int32_t qmax) {
  float q = RoundHalfEven(x / p.scale) + static_cast<float>(p.zero_point);
  if (q < static_cast<float>(qmin)) q = static_cast<float>(qmin);
  if (q > static_cast<float>(qmax)) q = static_cast<float>(qmax);
  return static_cast<int32_t>(q);
}

inline float DequantizeValue(int32_t q, ScaleAndZeroPoint p) {
  return static_cast<float>(q - p.zero_point) * p.scale;
}

// Calibrates one group of finite values. `values` may be reordered (percentile uses
// nth_element). A constant group c != 0 gets scale |c| so that it quantizes exactly.
ScaleAndZeroPoint CalibrateGroup(absl::Span<float> values, const QuantScheme& scheme);

// The min-max calibration of a group whose extremes are already known.
ScaleAndZeroPoint CalibrateMinMax(float min_value, float max_value, const QuantScheme& scheme);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_CALIBRATION_H_
