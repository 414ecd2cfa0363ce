#include "quant/float_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {

namespace {

// {format, exponent bits, mantissa bits, bias, emax, max finite, min normal, min subnormal,
//  has infinity, has NaN}.
// e4m3: max S.1111.110 = 2^8 * 1.75 (S.1111.111 is the only NaN, OFP8 "E4M3").
// e5m2: max S.11110.11 = 2^15 * 1.75 (S.11111.xx are Inf / NaN, as IEEE 754).
// e2m1: max S.11.1 = 2^2 * 1.5, every code finite (MX v1.0 Section 5.3.3).
constexpr FloatFormatInfo kE4M3Info{FloatFormat::kE4M3, 4, 3, 7, 8, 448.0f, 0x1p-6f, 0x1p-9f,
                                    false, true};
constexpr FloatFormatInfo kE5M2Info{FloatFormat::kE5M2, 5, 2, 15, 15, 57344.0f, 0x1p-14f, 0x1p-16f,
                                    true, true};
constexpr FloatFormatInfo kE2M1Info{FloatFormat::kE2M1, 2, 1, 1, 2, 6.0f, 1.0f, 0.5f,
                                    false, false};

constexpr uint32_t kFloatSignMask = 0x80000000u;
constexpr uint32_t kFloatInfBits = 0x7f800000u;
constexpr int kFloatMantissaBits = 23;
constexpr int kFloatBias = 127;

uint32_t BitsOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

// |x| (given as its bits: finite, not NaN) rounded to the format: nearest, ties to an even
// significand, saturating at max_finite. Exact: integer arithmetic on the float's significand.
float RoundMagnitude(uint32_t abs_bits, const FloatFormatInfo& info) {
  const uint32_t biased = abs_bits >> kFloatMantissaBits;
  // A zero or subnormal float is below 2^-126, far below half the smallest subnormal of every
  // format here (2^-17 for e5m2): it rounds to 0.
  if (biased == 0) return 0.0f;
  const int e = static_cast<int>(biased) - kFloatBias;  // |x| in [2^e, 2^(e+1))
  if (e > info.emax) return info.max_finite;            // |x| >= 2^(emax+1) > max_finite
  // |x| = sig * 2^(e - 23) with the implicit bit in sig.
  const uint32_t sig = (abs_bits & ((1u << kFloatMantissaBits) - 1)) | (1u << kFloatMantissaBits);
  // In the format, |x|'s binade has spacing 2^(max(e, emin) - M) (subnormals share emin's).
  const int emin = 1 - info.bias;
  const int quantum_exp = std::max(e, emin) - info.mantissa_bits;
  const int shift = quantum_exp - (e - kFloatMantissaBits);  // >= 23 - M
  uint32_t q = 0;  // |x| / 2^quantum_exp, rounded
  if (shift < 25) {  // otherwise sig < 2^24 <= half a quantum: q = 0
    q = sig >> shift;
    const uint32_t rem = sig & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    // q's LSB is the mantissa LSB of the result (normal: q = 2^M + m; subnormal: q = m).
    if (rem > half || (rem == half && (q & 1u) != 0)) ++q;
  }
  // q <= 2^(M+1) and quantum_exp <= emax - M: exact, finite.
  const float magnitude = std::ldexp(static_cast<float>(q), quantum_exp);
  return std::min(magnitude, info.max_finite);
}

float RoundWithInfo(float x, const FloatFormatInfo& info) {
  const uint32_t bits = BitsOf(x);
  const uint32_t abs_bits = bits & ~kFloatSignMask;
  if (abs_bits > kFloatInfBits) return x;  // NaN stays NaN (e2m1 included: documented)
  const float magnitude =
      abs_bits == kFloatInfBits ? info.max_finite : RoundMagnitude(abs_bits, info);
  return (bits & kFloatSignMask) != 0 ? -magnitude : magnitude;
}

// Same rule as RoundWithInfo for n finite values sharing `scale` (> 0), written without branches
// so that the compiler vectorises it (every weight of a model goes through here once per
// forward under fp8). Per value y = x / scale, magnitude a:
//  - a >= min normal: round the float's significand to M bits in place, nearest-even: add
//    2^(22-M) - 1 plus the kept LSB, clear the 23 - M dropped bits (a carry moves into the
//    exponent, as it should); saturate at max_finite (also catches a beyond emax);
//  - a < min normal: the format's fixed subnormal step q = min subnormal: a / q < 2^M exactly
//    (power of two), rounded to an integer nearest-even by adding and subtracting 1.5 * 2^23.
void QuantizeScaled(float* x, int64_t n, float scale, const FloatFormatInfo& info) {
  const int drop = kFloatMantissaBits - info.mantissa_bits;
  const uint32_t dropped_mask = (1u << drop) - 1;
  const uint32_t half_minus_one = (1u << (drop - 1)) - 1;
  const float inv_step = 1.0f / info.min_subnormal;  // a power of two: exact
  const float step = info.min_subnormal;
  // Finite non-negative floats order like their bits: compare and select on integers.
  const uint32_t min_normal_bits = BitsOf(info.min_normal);
  const uint32_t max_finite_bits = BitsOf(info.max_finite);
  constexpr float kRoundMagic = 0x1.8p23f;
  for (int64_t i = 0; i < n; ++i) {
    const float y = x[i] / scale;
    uint32_t bits;
    std::memcpy(&bits, &y, sizeof(bits));
    const uint32_t sign = bits & kFloatSignMask;
    const uint32_t abs_bits = bits ^ sign;
    uint32_t normal_bits = (abs_bits + half_minus_one + ((abs_bits >> drop) & 1u)) & ~dropped_mask;
    normal_bits = normal_bits > max_finite_bits ? max_finite_bits : normal_bits;
    float a;
    std::memcpy(&a, &abs_bits, sizeof(a));
    const float subnormal = ((a * inv_step + kRoundMagic) - kRoundMagic) * step;
    uint32_t subnormal_bits;
    std::memcpy(&subnormal_bits, &subnormal, sizeof(subnormal_bits));
    const uint32_t out_bits = (abs_bits < min_normal_bits ? subnormal_bits : normal_bits) | sign;
    float out;
    std::memcpy(&out, &out_bits, sizeof(out));
    x[i] = out * scale;
  }
}

void FillNaN(float* x, int64_t n) {
  std::fill(x, x + n, std::numeric_limits<float>::quiet_NaN());
}

// Largest |x[i]|, or -1 when some x[i] is NaN or +-Inf.
float AbsMaxOrMinusOne(const float* x, int64_t n) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (!(a <= std::numeric_limits<float>::max())) return -1.0f;
    amax = std::max(amax, a);
  }
  return amax;
}

void FakeQuantizeGroupFloat(float* x, int64_t n, const FloatFormatInfo& info) {
  const float amax = AbsMaxOrMinusOne(x, n);
  if (amax < 0.0f) {
    FillNaN(x, n);
    return;
  }
  QuantizeScaled(x, n, FloatFormatScale(amax, info.format), info);
}

// Round half to even of |t| < 2^23, clamped to [-limit, limit]. Exact: on a magnitude a in
// [0, 2^23), a - floor(a) is exact in float.
int RoundHalfEvenClamped(float t, int limit) {
  const float a = std::fabs(t);
  float r = std::floor(a);
  const float frac = a - r;
  if (frac > 0.5f || (frac == 0.5f && std::fmod(r, 2.0f) != 0.0f)) r += 1.0f;
  const int magnitude = static_cast<int>(std::min(r, static_cast<float>(limit)));
  return t < 0.0f ? -magnitude : magnitude;
}

constexpr int kMxInt8MaxCode = 127;
constexpr int kMxInt8FractionBits = 6;  // element value = code * 2^-6

// One MX block: shared exponent, elements, write back element * X. Every step is exact: v / X
// and element * X scale by powers of two and stay inside float's range (|v / X| < 2^(emax+1);
// element * X >= 2^-133 when nonzero, a float subnormal with room to spare).
void QuantizeMxBlock(float* v, int64_t n, MxElement e) {
  const float amax = AbsMaxOrMinusOne(v, n);
  if (amax < 0.0f) {  // E8M0 scale NaN: the whole block is NaN
    FillNaN(v, n);
    return;
  }
  const int s = MxScaleExponent(amax, e);
  if (e == MxElement::kFp4E2M1) {
    // X = 2^s is a float (2^-127 a subnormal, exact): v / X and q * X are the exact ldexp's.
    QuantizeScaled(v, n, std::ldexp(1.0f, s), kE2M1Info);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float scaled = std::ldexp(v[i], -s);
    switch (e) {
      case MxElement::kFp4E2M1:
        v[i] = std::ldexp(RoundWithInfo(scaled, kE2M1Info), s);
        break;
      case MxElement::kInt8: {
        // int8 has no -0: a zero code gives +0.
        const int code = RoundHalfEvenClamped(std::ldexp(scaled, kMxInt8FractionBits),
                                              kMxInt8MaxCode);
        v[i] = std::ldexp(static_cast<float>(code), s - kMxInt8FractionBits);
        break;
      }
    }
  }
}

}  // namespace

absl::string_view FloatFormatName(FloatFormat f) {
  switch (f) {
    case FloatFormat::kE4M3:
      return "e4m3";
    case FloatFormat::kE5M2:
      return "e5m2";
    case FloatFormat::kE2M1:
      return "e2m1";
  }
  return "unknown";
}

absl::StatusOr<FloatFormat> ParseFloatFormat(absl::string_view name) {
  for (FloatFormat f : {FloatFormat::kE4M3, FloatFormat::kE5M2, FloatFormat::kE2M1}) {
    if (name == FloatFormatName(f)) return f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown float format '", name, "' (expected e4m3, e5m2 or e2m1)"));
}

const FloatFormatInfo& GetFloatFormatInfo(FloatFormat f) {
  switch (f) {
    case FloatFormat::kE4M3:
      return kE4M3Info;
    case FloatFormat::kE5M2:
      return kE5M2Info;
    case FloatFormat::kE2M1:
      return kE2M1Info;
  }
  return kE4M3Info;
}

float RoundToFormat(float x, FloatFormat f) { return RoundWithInfo(x, GetFloatFormatInfo(f)); }

uint8_t EncodeFloat(float x, FloatFormat f) {
  const FloatFormatInfo& info = GetFloatFormatInfo(f);
  const int m_bits = info.mantissa_bits;
  const int magnitude_bits = info.exponent_bits + m_bits;
  const uint32_t sign = (BitsOf(x) & kFloatSignMask) != 0 ? 1u << magnitude_bits : 0u;
  if (std::isnan(x)) {
    // e4m3: S.1111.111 (its only NaN); e5m2: S.11111.11; e2m1 has no NaN: +0.
    return info.has_nan ? static_cast<uint8_t>(sign | ((1u << magnitude_bits) - 1)) : 0;
  }
  const float magnitude = std::fabs(RoundWithInfo(x, info));
  if (magnitude == 0.0f) return static_cast<uint8_t>(sign);
  const int emin = 1 - info.bias;
  const int e = std::ilogb(magnitude);
  uint32_t field;
  if (e < emin) {  // subnormal: exponent field 0, magnitude = m * 2^(emin - M)
    field = static_cast<uint32_t>(std::ldexp(magnitude, m_bits - emin));
  } else {  // normal: magnitude = (2^M + m) * 2^(e - M)
    const uint32_t m =
        static_cast<uint32_t>(std::ldexp(magnitude, m_bits - e)) - (1u << m_bits);
    field = (static_cast<uint32_t>(e + info.bias) << m_bits) | m;
  }
  return static_cast<uint8_t>(sign | field);
}

float DecodeFloat(uint8_t code, FloatFormat f) {
  const FloatFormatInfo& info = GetFloatFormatInfo(f);
  const int m_bits = info.mantissa_bits;
  const uint32_t c = code;
  const bool negative = ((c >> (info.exponent_bits + m_bits)) & 1u) != 0;
  const uint32_t exponent_field = (c >> m_bits) & ((1u << info.exponent_bits) - 1);
  const uint32_t m = c & ((1u << m_bits) - 1);
  const uint32_t all_ones_exponent = (1u << info.exponent_bits) - 1;
  float magnitude;
  if (f == FloatFormat::kE4M3 && exponent_field == all_ones_exponent &&
      m == (1u << m_bits) - 1) {
    magnitude = std::numeric_limits<float>::quiet_NaN();
  } else if (f == FloatFormat::kE5M2 && exponent_field == all_ones_exponent) {
    magnitude = m == 0 ? std::numeric_limits<float>::infinity()
                       : std::numeric_limits<float>::quiet_NaN();
  } else if (exponent_field == 0) {
    magnitude = std::ldexp(static_cast<float>(m), 1 - info.bias - m_bits);
  } else {
    magnitude = std::ldexp(static_cast<float>((1u << m_bits) + m),
                           static_cast<int>(exponent_field) - info.bias - m_bits);
  }
  return negative ? -magnitude : magnitude;
}

float FloatFormatScale(float amax, FloatFormat f) {
  if (amax == 0.0f) return 1.0f;
  const float scale = amax / GetFloatFormatInfo(f).max_finite;
  return scale > 0.0f ? scale : std::numeric_limits<float>::denorm_min();
}

void FakeQuantizeRowsFloat(float* data, int64_t rows, int64_t cols, FloatFormat f) {
  const FloatFormatInfo& info = GetFloatFormatInfo(f);
  for (int64_t r = 0; r < rows; ++r) FakeQuantizeGroupFloat(data + r * cols, cols, info);
}

void FakeQuantizeTensorFloat(float* data, int64_t size, FloatFormat f) {
  FakeQuantizeGroupFloat(data, size, GetFloatFormatInfo(f));
}

absl::string_view MxElementName(MxElement e) {
  switch (e) {
    case MxElement::kFp4E2M1:
      return "mxfp4";
    case MxElement::kInt8:
      return "mxint8";
  }
  return "unknown";
}

int MxElementEmax(MxElement e) {
  switch (e) {
    case MxElement::kFp4E2M1:
      return kE2M1Info.emax;  // 6 = 1.5 * 2^2
    case MxElement::kInt8:
      return 0;  // 1.984375 = 127 * 2^-6 < 2^1
  }
  return 0;
}

float MxElementMax(MxElement e) {
  switch (e) {
    case MxElement::kFp4E2M1:
      return kE2M1Info.max_finite;
    case MxElement::kInt8:
      return std::ldexp(static_cast<float>(kMxInt8MaxCode), -kMxInt8FractionBits);
  }
  return 0.0f;
}

int MxScaleExponent(float amax, MxElement e) {
  const float a = std::fabs(amax);
  if (!(a <= std::numeric_limits<float>::max())) return kMxScaleExponentNaN;
  if (a == 0.0f) return kMxScaleExponentMin;
  // ilogb is floor(log2(a)) exactly, float subnormals included.
  return std::min(std::max(std::ilogb(a) - MxElementEmax(e), kMxScaleExponentMin),
                  kMxScaleExponentMax);
}

void FakeQuantizeMx(float* data, int64_t rows, int64_t cols, MxElement e) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = data + r * cols;
    for (int64_t b = 0; b < cols; b += kMxBlockSize) {
      QuantizeMxBlock(row + b, std::min(kMxBlockSize, cols - b), e);
    }
  }
}

}  // namespace sinkscope::quant
