// File: quant/quantize.h
//
// quantize.h: float tensor -> integer codes (round half to even, saturating) and back.
//
//   q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)
//   x' = (q - zero_point) * scale
// For a value inside the calibrated range |x - x'| <= scale / 2. Codes are stored one byte each:
// signed (int8) for symmetric schemes, unsigned (uint8) for asymmetric ones, so that they can go
// straight into an int8 GEMM.
//
// Example:
//   absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(x), QuantScheme::PerToken(), "x");
//   FloatMatrix x2 = DequantizeMatrix(*q);
#ifndef SINKSCOPE_QUANT_QUANTIZE_H_
#define SINKSCOPE_QUANT_QUANTIZE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "quant/quant_params.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

struct QuantizedTensor {
  QuantParams params;
  std::vector<uint8_t> bytes;  // one code per element, row-major; int8 when is_signed()
  int64_t clipped = 0;         // elements that saturated at qmin or qmax beyond half a step

  bool is_signed() const { return params.scheme.symmetric; }
  int32_t code(int64_t flat) const {
    return is_signed() ? static_cast<int32_t>(static_cast<int8_t>(bytes[flat]))
                       : static_cast<int32_t>(bytes[flat]);
  }
  const Shape& shape() const { return params.shape; }
};

// Calibrates and quantizes. Errors as ComputeQuantParams.
absl::StatusOr<QuantizedTensor> Quantize(const ConstTensorView& tensor, const QuantScheme& scheme,
                                         absl::string_view tensor_name);

// Quantizes with given parameters (their shape must match). NaN/Inf elements are an error.
absl::StatusOr<QuantizedTensor> QuantizeWithParams(const ConstTensorView& tensor,
                                                   const QuantParams& params,
                                                   absl::string_view tensor_name);

// Dequantized values, row-major, same shape as q.
std::vector<float> Dequantize(const QuantizedTensor& q);

// Dequantized values as a matrix [product of leading axes, last axis] (rank 1: one row).
FloatMatrix DequantizeMatrix(const QuantizedTensor& q);

// Quantize then dequantize ("fake quantization") of a matrix.
absl::StatusOr<FloatMatrix> FakeQuantize(const FloatMatrix& x, const QuantScheme& scheme,
                                         absl::string_view tensor_name);

// The transpose of a rank-2 tensor [rows x cols] -> [cols x rows]: codes moved, parameters
// re-indexed (per-tensor stays; per-channel along axis a becomes per-channel along 1 - a, same
// scales). Equal to quantizing the transposed floats with the transposed scheme; per-channel
// along the rows is the cheap way to quantize a weight [out x in] for a GEMM's B [in x out].
// Errors: rank != 2 or another granularity.
absl::StatusOr<QuantizedTensor> TransposeQuantized(const QuantizedTensor& q);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_QUANTIZE_H_
