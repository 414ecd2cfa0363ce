// File: quant/quantized_matmul.h
//
// quantized_matmul.h: "what does int8 cost this product?" in one call. Quantizes A [M x K] and
// B [K x N] under their schemes, multiplies the codes three ways and measures each against the
// fp32 product (accumulated in double):
//   oracle:      ReferenceInt8Gemm (exact int32; the ideal int8 error);
//   onednn:      Int8Gemm with its ISA mitigation (must equal the oracle bit for bit);
//   unmitigated: oneDNN as a naive user would call it (on non-VNNI CPUs with full-range weights
//                its int16 pair saturation shows up here).
// Per-group schemes along K (A per-group axis 1 and/or B per-group axis 0) are run as one GEMM
// per K block, summed in float in block order; the other operand must then be per-tensor,
// per-token (A) or per-channel axis 1 (B).
//
// Example:
//   absl::StatusOr<QuantizedMatmulResult> r = QuantizedMatmul(
//       x, w, QuantScheme::PerToken().Asymmetric(), QuantScheme::PerChannel(1));
//   std::cout << r->onednn_error.sqnr_db << " dB, bit exact: " << r->bit_exact;
#ifndef SINKSCOPE_QUANT_QUANTIZED_MATMUL_H_
#define SINKSCOPE_QUANT_QUANTIZED_MATMUL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "quant/error_metrics.h"
#include "quant/int8_gemm.h"
#include "quant/quant_scheme.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

struct QuantizedMatmulResult {
  FloatMatrix reference;    // A * B in double, rounded to float
  FloatMatrix oracle;       // through ReferenceInt8Gemm
  FloatMatrix onednn;       // through Int8Gemm (mitigated)
  FloatMatrix unmitigated;  // through Int8Gemm with Int8Mitigation::kNone
  ErrorMetrics oracle_error, onednn_error, unmitigated_error;  // each against `reference`
  int64_t saturations = 0;  // int16 pair saturations the unmitigated AVX2 kernel meets
  bool bit_exact = false;   // onednn == oracle, every element, bitwise
  std::string impl;         // oneDNN implementation, e.g. "gemm:jit"
  Int8Mitigation mitigation = Int8Mitigation::kNone;
  int64_t clipped_a = 0, clipped_b = 0;  // elements clamped when quantizing
};

struct QuantizedMatmulOptions {
  bool run_unmitigated = true;
  bool count_saturations = true;  // one extra O(MNK) pass
};

// Errors: shapes, schemes that do not fit a GEMM, NaN/Inf (naming "A" or "B").
absl::StatusOr<QuantizedMatmulResult> QuantizedMatmul(const FloatMatrix& a, const FloatMatrix& b,
                                                      const QuantScheme& scheme_a,
                                                      const QuantScheme& scheme_b,
                                                      QuantizedMatmulOptions options = {});

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_QUANTIZED_MATMUL_H_
