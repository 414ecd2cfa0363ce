// File: analysis/scan_kernels.h
//
// scan_kernels.h: the vectorised inner loops of the weight scan (internal: do not depend on this
// outside analysis/ and its tests). One source (scan_kernels_impl.inc) written with GCC vector
// extensions over 16-float / 8-double blocks is compiled once per instruction set (AVX-512,
// AVX2 + F16C, baseline x86-64) into a table of kernels; ScanKernelsForCpu() picks the widest one
// the CPU runs, and every table names itself (`name`) so that tests and benchmarks say which ran.
// The tables perform the same IEEE operations in the same order per lane (no FMA: the kernels
// are built with -ffp-contract=off), so their results are bit-identical: sums are taken in 16
// double lanes (element i of each block of 16 goes to lane i) added in a fixed order at the end
// (lane k + lane k + 8, k = 0..7); the tail (n mod 16) is added last, in element order.
//
// Exactness notes (each is tested against naive loops in tests/analysis/scan_kernels_test.cc):
//   - x^2 of a bf16 value with 2^-63 <= |x| < 2^61 (kRowExtreme clear), or of any f16 value, is
//     exact in float (8 or 11 significant bits squared fit 24), so ProfileRow squares in float
//     and widens; its per-row sum is the double sum of the exact squares.
//   - GroupErrorSums multiplies by 1 / scale instead of dividing: t = x * (1/scale) is within
//     |t| 2^-23 of x / scale, so it rounds to the same integer unless it lies within
//     tmax 2^-20 of a half-integer (tmax = max |x| / scale); those blocks of 16 are recomputed
//     with the division. a = q * scale is then exactly quant::DequantizeValue; when no value
//     saturates and the zero point is 0, |x - a| <= scale / 2 makes x - a exact in float, else
//     the difference is taken in double.
//
// Example:
//   const ScanKernels& k = ScanKernelsForCpu();      // k.name: "avx512", "avx2" or "baseline"
//   uint32_t flags = k.convert_count_bf16(src, n, row, hist);
//   RowProfile p = k.profile_row(row, n, ch_max, ch_sq_block);
//   ErrorSums e = k.group_error_sums(row, n, p.abs_max, params, -127, 127);
#ifndef SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_
#define SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_

#include <cstdint>
#include <vector>

#include "quant/calibration.h"

namespace sinkscope::analysis::internal {

// What ConvertCount* found in a row (bit flags).
enum RowFlags : uint32_t {
  kRowNonFinite = 1,  // an Inf or NaN
  kRowExtreme = 2,    // bf16: a NaN or a nonzero |x| outside [2^-63, 2^61) (its square is not
                      // exact in float, or a sum of 16 of them overflows)
};

// One pass over a row of n finite values (see ProfileRow).
struct RowProfile {
  float lo = 0.0f, hi = 0.0f;  // min and max
  float abs_max = 0.0f;        // max |x|
  double sum_sq = 0.0;         // sum x^2
};

// The terms of quant::ErrorAccumulator over a group quantized with one scale. GroupErrorSums
// fills approx_sq, err_sq and max_abs (the caller knows sum x^2 from ProfileRow).
struct ErrorSums {
  double ref_sq = 0.0, approx_sq = 0.0, dot = 0.0, err_sq = 0.0, max_abs = 0.0;
};

struct ScanKernels {
  const char* name;  // "avx512", "avx2" or "baseline"

  // Widens n bf16 values (little-endian 16-bit patterns) into out and adds one to hist[pattern]
  // for each (65536 bins); returns RowFlags.
  uint32_t (*convert_count_bf16)(const uint8_t* src, int64_t n, float* out, uint32_t* hist);
  // The same for IEEE fp16; `table` holds the 65536 values (the baseline looks them up).
  uint32_t (*convert_count_f16)(const uint8_t* src, int64_t n, const float* table, float* out,
                                uint32_t* hist);
  // n >= 1 finite values, none extreme: their min, max, max |x| and sum x^2 (double); updates
  // ch_max[i] = max(ch_max[i], |x[i]|) and ch_sq[i] += x[i]^2 (float).
  RowProfile (*profile_row)(const float* x, int64_t n, float* ch_max, float* ch_sq);
  // n >= 1 finite values with max |x| = max_abs, quantized with p (round half to even,
  // saturate to [qmin, qmax], dequantize): exactly quant::QuantizeValue / DequantizeValue per
  // value. Returns sum a^2, sum (x - a)^2 and max |x - a| (ref_sq and dot are left 0).
  ErrorSums (*group_error_sums)(const float* x, int64_t n, float max_abs,
                                quant::ScaleAndZeroPoint p, int32_t qmin, int32_t qmax);

  // Generic pieces (OutlierProfiler::Add on rows of any dtype):
  // min and max of n >= 1 finite values;
  void (*row_range)(const float* x, int64_t n, float* lo, float* hi);
  // true when every value is finite;
  bool (*all_finite)(const float* x, int64_t n);
  // n finite values: ch_max[i] = max(ch_max[i], |x[i]|), ch_sq[i] += x[i]^2 (double); returns
  // sum x^2 (double) and sets *abs_max to max |x|.
  double (*profile_finite)(const float* x, int64_t n, float* ch_max, double* ch_sq,
                           float* abs_max);
};

// The widest kernel table this CPU runs (chosen once).
const ScanKernels& ScanKernelsForCpu();
// Every table this CPU runs, widest first, the baseline last (for parity tests and benchmarks).
std::vector<const ScanKernels*> SupportedScanKernels();

// Shorthands through ScanKernelsForCpu().
inline void RowRange(const float* x, int64_t n, float* lo, float* hi) {
  ScanKernelsForCpu().row_range(x, n, lo, hi);
}
inline bool AllFinite(const float* x, int64_t n) { return ScanKernelsForCpu().all_finite(x, n); }
inline double ProfileFinite(const float* x, int64_t n, float* ch_max, double* ch_sq,
                            float* abs_max) {
  return ScanKernelsForCpu().profile_finite(x, n, ch_max, ch_sq, abs_max);
}

}  // namespace sinkscope::analysis::internal

#endif  // SINKSCOPE_ANALYSIS_SCAN_KERNELS_H_
