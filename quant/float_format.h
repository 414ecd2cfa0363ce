// File: quant/float_format.h
//
// float_format.h: exact emulation of low-precision float formats (OCP FP8 E4M3 / E5M2, OCP MX
// FP4 E2M1) and of OCP Microscaling (MX) block quantization, for fake-quantization experiments.
//
// RoundToFormat rounds a float to the nearest value of the format, ties to the value whose
// mantissa LSB is 0 (round half to even), saturating: anything beyond the largest finite value,
// infinities included, becomes +-max finite. It is exact for every float input (integer
// arithmetic on the float's bits). EncodeFloat / DecodeFloat give the format's bit codes;
// DecodeFloat(EncodeFloat(x, f), f) == RoundToFormat(x, f) for every x but a NaN in E2M1.
//
// Formats (OCP 8-bit Floating Point Specification (OFP8) rev 1.0 for e4m3/e5m2; OCP Microscaling
// Formats (MX) v1.0 spec, Section 5.3.3 for e2m1):
//   e4m3  1-4-3, bias 7, max 448 (S.1111.110), no infinities, NaN = S.1111.111 only,
//         min normal 2^-6, min subnormal 2^-9.                          ("E4M3FN")
//   e5m2  1-5-2, bias 15, max 57344, Inf = S.11111.00, NaN = S.11111.{01,10,11},
//         min normal 2^-14, min subnormal 2^-16.                         (IEEE-like)
//   e2m1  1-2-1, bias 1, magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6}, no Inf/NaN. Code in bits 3..0.
// Special values: NaN stays NaN (RoundToFormat returns a NaN; EncodeFloat gives S.1111.111 for
// e4m3 and S.11111.11 for e5m2; e2m1 has no NaN code, EncodeFloat gives +0 there). +-0 keep
// their sign. Saturation is OFP8's "saturating" conversion mode for e4m3 and e5m2 (so e5m2 never
// yields Inf here, even for an Inf input; DecodeFloat still decodes the Inf codes).
//
// Scaled fake quantization:
//   FakeQuantizeRowsFloat: per row (token / output channel) scale = amax_row / max_finite(f)
//     (amax 0 -> scale 1), x -> RoundToFormat(x / scale, f) * scale, in float.
//   FakeQuantizeMx (OCP MX v1.0, Section 6.3; Rouhani et al. 2023, arXiv:2310.10537, Alg. 1):
//     blocks of 32 consecutive values along a row (the last block of a row may be shorter)
//     share X = 2^(floor(log2(amax_block)) - emax_elem), the exponent clamped to E8M0's
//     [-127, 127]; element = quantize(v / X) with normal values clamped to the element's max;
//     v' = element * X. MXFP4: elements E2M1, emax_elem 2. MXINT8: elements int8 in [-127, 127]
//     with an implied scale 2^-6 (value = code / 64, max 1.984375), emax_elem 0 (as in Microsoft's
//     reference emulator microxcaling, mx/formats.py), rounded half to even. Every step is exact: results are exactly the MX-representable values.
//   A row (FakeQuantizeRowsFloat) or block (FakeQuantizeMx) holding NaN or +-Inf comes back all
//   NaN, as an MX block whose E8M0 scale is NaN (MX v1.0 Section 6.3: Infs and NaNs are not
//   clamped).
//
// Example:
//   float y = RoundToFormat(464.0f, FloatFormat::kE4M3);        // 448 (saturated)
//   uint8_t code = EncodeFloat(-1.5f, FloatFormat::kE2M1);      // 0b1011
//   FakeQuantizeRowsFloat(w.data(), rows, cols, FloatFormat::kE4M3);
//   FakeQuantizeMx(x.data(), rows, cols, MxElement::kFp4E2M1);
#ifndef SINKSCOPE_QUANT_FLOAT_FORMAT_H_
#define SINKSCOPE_QUANT_FLOAT_FORMAT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::quant {

enum class FloatFormat { kE4M3, kE5M2, kE2M1 };

// Bit fields and range of a format. Values are exact (all are powers of two or small multiples).
struct FloatFormatInfo {
  FloatFormat format;
  int exponent_bits;
  int mantissa_bits;
  int bias;
  int emax;             // unbiased exponent of the largest finite value's binade (8, 15, 2)
  float max_finite;     // 448, 57344, 6
  float min_normal;     // 2^(1 - bias)
  float min_subnormal;  // 2^(1 - bias - mantissa_bits)
  bool has_infinity;    // e5m2 only
  bool has_nan;         // e4m3, e5m2
};

// "e4m3", "e5m2", "e2m1".
absl::string_view FloatFormatName(FloatFormat f);

// Inverse of FloatFormatName; InvalidArgument for anything else.
absl::StatusOr<FloatFormat> ParseFloatFormat(absl::string_view name);

const FloatFormatInfo& GetFloatFormatInfo(FloatFormat f);

// Nearest value of f, ties to even mantissa, saturating to +-max_finite; NaN -> NaN.
float RoundToFormat(float x, FloatFormat f);

// The code of RoundToFormat(x, f): sign in the top bit of the format (bit 7, or bit 3 for e2m1).
uint8_t EncodeFloat(float x, FloatFormat f);

// Value of a code (e2m1: bits 7..4 are ignored). NaN codes -> NaN, e5m2 Inf codes -> +-Inf.
float DecodeFloat(uint8_t code, FloatFormat f);

// The scale FakeQuantize*Float use for a group with largest magnitude amax (finite, >= 0):
// amax / max_finite(f); 1 when amax is 0; the smallest positive float if that underflows to 0.
float FloatFormatScale(float amax, FloatFormat f);

// Per-row scaled fake quantization of a row-major [rows x cols] matrix, in place.
void FakeQuantizeRowsFloat(float* data, int64_t rows, int64_t cols, FloatFormat f);

// As FakeQuantizeRowsFloat with one scale for all `size` values.
void FakeQuantizeTensorFloat(float* data, int64_t size, FloatFormat f);

// ---- OCP Microscaling (MX v1.0) ------------------------------------------------------------

enum class MxElement { kFp4E2M1, kInt8 };

inline constexpr int64_t kMxBlockSize = 32;
inline constexpr int kMxScaleExponentMin = -127;  // E8M0 code 0x00
inline constexpr int kMxScaleExponentMax = 127;   // E8M0 code 0xFE
inline constexpr int kMxScaleExponentNaN = 128;   // E8M0 code 0xFF (code = exponent + 127)

// "mxfp4", "mxint8".
absl::string_view MxElementName(MxElement e);

// Largest exponent of the element format: 2 for E2M1 (6 = 1.5 * 2^2), 0 for MXINT8.
int MxElementEmax(MxElement e);

// Largest element magnitude: 6 for E2M1, 127/64 for MXINT8.
float MxElementMax(MxElement e);

// Shared-scale exponent of a block with largest magnitude amax: floor(log2(amax)) - emax_elem,
// clamped to [-127, 127]; amax 0 -> -127; NaN or Inf amax -> kMxScaleExponentNaN.
int MxScaleExponent(float amax, MxElement e);

// MX fake quantization of a row-major [rows x cols] matrix, in place, blocks along each row.
void FakeQuantizeMx(float* data, int64_t rows, int64_t cols, MxElement e);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_FLOAT_FORMAT_H_
