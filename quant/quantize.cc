#include "quant/quantize.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {

absl::StatusOr<QuantizedTensor> QuantizeWithParams(const ConstTensorView& t,
                                                   const QuantParams& params,
                                                   absl::string_view name) {
  if (t.shape != params.shape) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' ", ShapeToString(t.shape),
                                                   ": parameters were computed for shape ",
                                                   ShapeToString(params.shape)));
  }
  if (absl::Status st = CheckFinite(t, name); !st.ok()) return st;
  QuantizedTensor q;
  q.params = params;
  q.bytes.resize(t.size());
  const ParamLayout& l = params.layout;
  const int32_t qmin = params.scheme.qmin();
  const int32_t qmax = params.scheme.qmax();
  int64_t flat = 0;
  int64_t clipped = 0;
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t i = 0; i < l.n; ++i) {
      for (int64_t j = 0; j < l.inner; ++j, ++flat) {
        const ScaleAndZeroPoint p = params.Param(l.Index(o, i, j));
        const float x = t.data[flat];
        const int32_t c = QuantizeValue(x, p, qmin, qmax);
        // Saturated beyond half a step: the value lay outside the representable range.
        const float unclamped = x / p.scale + static_cast<float>(p.zero_point);
        clipped += (unclamped < static_cast<float>(qmin) - 0.5f) ||
                   (unclamped > static_cast<float>(qmax) + 0.5f);
        q.bytes[flat] = static_cast<uint8_t>(c & 0xff);
      }
    }
  }
  q.clipped = clipped;
  return q;
}

absl::StatusOr<QuantizedTensor> Quantize(const ConstTensorView& t, const QuantScheme& scheme,
                                         absl::string_view name) {
  absl::StatusOr<QuantParams> params = ComputeQuantParams(t, scheme, name);
  if (!params.ok()) return params.status();
  return QuantizeWithParams(t, *params, name);
}

std::vector<float> Dequantize(const QuantizedTensor& q) {
  std::vector<float> out(q.bytes.size());
  const ParamLayout& l = q.params.layout;
  int64_t flat = 0;
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t i = 0; i < l.n; ++i) {
      for (int64_t j = 0; j < l.inner; ++j, ++flat) {
        out[flat] = DequantizeValue(q.code(flat), q.params.Param(l.Index(o, i, j)));
      }
    }
  }
  return out;
}

FloatMatrix DequantizeMatrix(const QuantizedTensor& q) {
  // [all leading axes flattened, last axis].
  const Shape& s = q.shape();
  const int64_t cols = s.empty() ? 1 : s.back();
  const int64_t rows = cols > 0 ? NumElements(s) / cols : 0;
  const std::vector<float> v = Dequantize(q);
  FloatMatrix m(rows, cols);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

absl::StatusOr<FloatMatrix> FakeQuantize(const FloatMatrix& x, const QuantScheme& scheme,
                                         absl::string_view name) {
  absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(x), scheme, name);
  if (!q.ok()) return q.status();
  return DequantizeMatrix(*q);
}

}  // namespace sinkscope::quant
