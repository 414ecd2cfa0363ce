// File: quant/reference_int8_gemm.h
//
// reference_int8_gemm.h: the oracle of every int8 GEMM in sinkscope. Plain loops, int64
// accumulation, no SIMD and no library: what the GEMM contract of quant/int8_matrix.h says,
// written out.
//
// Example:
//   absl::StatusOr<FloatMatrix> c = ReferenceInt8Gemm(a, b);      // a, b: GemmOperand
//   absl::StatusOr<Int32Matrix> acc = ReferenceInt8GemmInt32(a, b);
#ifndef SINKSCOPE_QUANT_REFERENCE_INT8_GEMM_H_
#define SINKSCOPE_QUANT_REFERENCE_INT8_GEMM_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "quant/int8_matrix.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

// acc[m,n] = sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n]). Errors: invalid operands.
absl::StatusOr<Int32Matrix> ReferenceInt8GemmInt32(const GemmOperand& a, const GemmOperand& b);

// C[m,n] = (float(acc[m,n]) * sb[n]) * sa[m].
absl::StatusOr<FloatMatrix> ReferenceInt8Gemm(const GemmOperand& a, const GemmOperand& b);

// Number of (m, n, k-pair) triples at which the AVX2 u8 x s8 kernel without VNNI would saturate
// its int16 pair sum: |a'[m,2i] b'[2i,n] + a'[m,2i+1] b'[2i+1,n]| > 32767, where a' is A as
// unsigned bytes (s8 codes + 128, as oneDNN feeds vpmaddubsw) and b' is B as signed bytes
// (u8 codes - 128). Costs one pass of M*N*K/2 multiply-adds.
int64_t CountInt16PairSaturations(const Int8MatrixView& a, const Int8MatrixView& b);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_REFERENCE_INT8_GEMM_H_
