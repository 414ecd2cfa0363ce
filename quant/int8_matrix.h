// File: quant/int8_matrix.h
//
// int8_matrix.h: the operands of an int8 GEMM: a row-major view of one-byte codes (signed or
// unsigned) and the scales and zero points that give them meaning.
//
// Per-operand parameters: A [M x K] has one (per-tensor) or M (per-token) entries; B [K x N] one
// (per-tensor) or N (per-output-channel). The GEMM contract (quant/README.md):
//   acc[m,n] = sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n])              (exact int32)
//   C[m,n]   = (float(acc[m,n]) * sb[n]) * sa[m]                       (two float multiplies)
//
// Example:
//   QuantizedTensor qa = *Quantize(ViewOf(x), QuantScheme::PerToken().Asymmetric(), "x");
//   GemmOperand a = GemmOperandFrom(qa);   // checks the granularity fits a GEMM
#ifndef SINKSCOPE_QUANT_INT8_MATRIX_H_
#define SINKSCOPE_QUANT_INT8_MATRIX_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "quant/quantize.h"

namespace sinkscope::quant {

enum class Int8Type { kU8, kS8 };

// Non-owning row-major [rows x cols] view of one-byte codes.
struct Int8MatrixView {
  const uint8_t* data = nullptr;
  Int8Type type = Int8Type::kS8;
  int64_t rows = 0;
  int64_t cols = 0;

  int32_t at(int64_t r, int64_t c) const {
    const uint8_t v = data[r * cols + c];
    return type == Int8Type::kS8 ? static_cast<int32_t>(static_cast<int8_t>(v))
                                 : static_cast<int32_t>(v);
  }
};

// Scales and zero points of one GEMM operand; each vector has 1 or (M for A, N for B) entries.
struct GemmQuant {
  std::vector<float> scales = {1.0f};
  std::vector<int32_t> zero_points = {0};

  float scale(int64_t i) const { return scales.size() == 1 ? scales[0] : scales[i]; }
  int32_t zero_point(int64_t i) const {
    return zero_points.size() == 1 ? zero_points[0] : zero_points[i];
  }
};

struct GemmOperand {
  Int8MatrixView matrix;
  GemmQuant quant;
};

enum class GemmSide { kA, kB };

// The operand view of a quantized rank-2 tensor. A must be per-tensor or per-token (per row);
// B per-tensor or per-channel along axis 1 (per output column). The view borrows q's bytes.
absl::StatusOr<GemmOperand> GemmOperandFrom(const QuantizedTensor& q, GemmSide side);

// Checks shapes (A.cols == B.rows), parameter counts, zero points inside the code type's range,
// finite positive scales, and that the worst-case |acc| fits in int32.
absl::Status ValidateGemmOperands(const GemmOperand& a, const GemmOperand& b);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_INT8_MATRIX_H_
