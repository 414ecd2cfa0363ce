// File: analysis/scan_kernels.h
//
// scan_kernels.h: the vectorised inner loops of the weight scan (internal: do not depend on this
// outside analysis/). Written with GCC vector extensions over 4-lane float / double vectors and
// compiled twice, for AVX2 and for the baseline x86-64 target, picked at run time
// (target_clones). Both clones perform the same IEEE operations in the same order per lane (no
// FMA: the avx2 target does not enable it), so their results are bit-identical; the sums are
// taken in 8 lanes (two vectors) and the lanes added in a fixed order at the end.
//
// Example:
//   float lo, hi;
//   RowRange(x, n, &lo, &hi);
//   ErrorSums e = GroupErrorSums(x, n, params, -127, 127);
#ifndef SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_
#define SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_

#include <cstdint>

#include "quant/calibration.h"

namespace sinkscope::analysis::internal {

// Min and max of n >= 1 finite values.
void RowRange(const float* x, int64_t n, float* lo, float* hi);

// True when every value is finite.
bool AllFinite(const float* x, int64_t n);

// n finite values: ch_max[i] = max(ch_max[i], |x[i]|), ch_sq[i] += x[i]^2 (double); returns
// sum x^2 (double) and sets *abs_max to max |x|.
double ProfileFinite(const float* x, int64_t n, float* ch_max, double* ch_sq, float* abs_max);

// The terms of quant::ErrorAccumulator over n finite values quantized with p (round half to
// even, saturate to [qmin, qmax], dequantize): exactly QuantizeValue / DequantizeValue per value.
struct ErrorSums {
  double ref_sq = 0.0, approx_sq = 0.0, dot = 0.0, err_sq = 0.0, max_abs = 0.0;
};
ErrorSums GroupErrorSums(const float* x, int64_t n, quant::ScaleAndZeroPoint p, int32_t qmin,
                         int32_t qmax);

}  // namespace sinkscope::analysis::internal

#endif  // SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_
