// RoundToFormat / EncodeFloat / DecodeFloat against an independent oracle: the table of every
// code's value built here from the bit-field definition, searched by brute force in double
// (nearest value, ties to the even mantissa LSB, saturating). FakeQuantizeRowsFloat and
// FakeQuantizeMx against naive re-implementations on that oracle.
#include "quant/float_format.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::quant {
namespace {

constexpr FloatFormat kAllFormats[] = {FloatFormat::kE4M3, FloatFormat::kE5M2,
                                       FloatFormat::kE2M1};
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- Oracle: the table of codes, from the bit fields alone ----------------------------------

struct BitFields {
  int exponent_bits, mantissa_bits, bias;
};

BitFields FieldsOf(FloatFormat f) {
  switch (f) {
    case FloatFormat::kE4M3:
      return {4, 3, 7};
    case FloatFormat::kE5M2:
      return {5, 2, 15};
    case FloatFormat::kE2M1:
      return {2, 1, 1};
  }
  return {0, 0, 0};
}

enum class Kind { kFinite, kInf, kNaN };

struct Code {
  uint8_t code;
  bool negative;
  int mantissa;  // the M-bit field
  Kind kind;
  double value;  // signed; meaningful for kFinite (and +-inf for kInf)
};

struct Table {
  std::vector<Code> codes;        // every code, in code order
  std::vector<Code> nonnegative;  // finite codes with sign 0, ascending value
};

// value = (-1)^s 2^(e - bias) (1 + m / 2^M), or (-1)^s 2^(1 - bias) m / 2^M when e = 0.
// Specials: e4m3 S.1111.111 is NaN (no Inf); e5m2 exponent all ones: m = 0 Inf, else NaN;
// e2m1 has none.
Table BuildTable(FloatFormat f) {
  const BitFields b = FieldsOf(f);
  const int width = 1 + b.exponent_bits + b.mantissa_bits;
  const int e_all_ones = (1 << b.exponent_bits) - 1;
  const int m_all_ones = (1 << b.mantissa_bits) - 1;
  Table t;
  for (int c = 0; c < (1 << width); ++c) {
    Code code;
    code.code = static_cast<uint8_t>(c);
    code.negative = ((c >> (width - 1)) & 1) != 0;
    const int e = (c >> b.mantissa_bits) & e_all_ones;
    code.mantissa = c & m_all_ones;
    code.kind = Kind::kFinite;
    if (f == FloatFormat::kE4M3 && e == e_all_ones && code.mantissa == m_all_ones) {
      code.kind = Kind::kNaN;
    }
    if (f == FloatFormat::kE5M2 && e == e_all_ones) {
      code.kind = code.mantissa == 0 ? Kind::kInf : Kind::kNaN;
    }
    const double frac = static_cast<double>(code.mantissa) / (1 << b.mantissa_bits);
    double magnitude = e == 0 ? std::pow(2.0, 1 - b.bias) * frac
                              : std::pow(2.0, e - b.bias) * (1.0 + frac);
    if (code.kind == Kind::kInf) magnitude = std::numeric_limits<double>::infinity();
    code.value = code.negative ? -magnitude : magnitude;
    t.codes.push_back(code);
    if (code.kind == Kind::kFinite && !code.negative) t.nonnegative.push_back(code);
  }
  // Nonnegative finite codes ascend with the code; check rather than assume.
  for (size_t i = 1; i < t.nonnegative.size(); ++i) {
    EXPECT_LT(t.nonnegative[i - 1].value, t.nonnegative[i].value);
  }
  return t;
}

const Table& TableOf(FloatFormat f) {
  static const Table tables[] = {BuildTable(FloatFormat::kE4M3), BuildTable(FloatFormat::kE5M2),
                                 BuildTable(FloatFormat::kE2M1)};
  return tables[static_cast<int>(f)];
}

// Nearest nonnegative finite value to a >= 0 by linear search, ties to the even mantissa LSB.
// At or beyond the largest value that is the largest value (saturation); said explicitly, as
// distances to a huge a are not exact in double.
const Code& NearestNonnegative(const Table& t, double a) {
  if (a >= t.nonnegative.back().value) return t.nonnegative.back();
  const Code* best = &t.nonnegative[0];
  double best_distance = std::fabs(best->value - a);
  for (const Code& c : t.nonnegative) {
    const double d = std::fabs(c.value - a);
    if (d < best_distance || (d == best_distance && (c.mantissa & 1) == 0)) {
      best = &c;
      best_distance = d;
    }
  }
  return *best;
}

// The oracle's RoundToFormat for finite or infinite x: sign applied to the nearest magnitude.
double OracleRound(FloatFormat f, float x) {
  const double magnitude = NearestNonnegative(TableOf(f), std::fabs(static_cast<double>(x))).value;
  return std::signbit(x) ? -magnitude : magnitude;
}

double MaxFinite(FloatFormat f) { return TableOf(f).nonnegative.back().value; }

// Same value and same sign bit (so -0 differs from +0).
::testing::AssertionResult SameFloat(float got, double want) {
  if (got == static_cast<float>(want) && std::signbit(got) == std::signbit(want)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", want " << want;
}

float FloatFromBits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

uint32_t BitsOf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

// RoundToFormat(x) and Decode(Encode(x)) against the oracle.
::testing::AssertionResult RoundsLikeOracle(FloatFormat f, float x) {
  const double want = OracleRound(f, x);
  for (float got : {RoundToFormat(x, f), DecodeFloat(EncodeFloat(x, f), f)}) {
    ::testing::AssertionResult same = SameFloat(got, want);
    if (!same) {
      char bits[16];
      std::snprintf(bits, sizeof(bits), "0x%08x", static_cast<unsigned>(BitsOf(x)));
      return same << " for x = " << x << " (bits " << bits << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- Descriptor ----------------------------------------------------------------------------

TEST(FloatFormatTest, DescriptorsMatchTheSpecAndTheTable) {
  struct Want {
    FloatFormat f;
    std::string name;
    int e_bits, m_bits, bias;
    double max_finite, min_normal, min_subnormal;
    bool has_infinity, has_nan;
  };
  const Want wants[] = {
      {FloatFormat::kE4M3, "e4m3", 4, 3, 7, 448.0, std::ldexp(1.0, -6), std::ldexp(1.0, -9),
       false, true},
      {FloatFormat::kE5M2, "e5m2", 5, 2, 15, 57344.0, std::ldexp(1.0, -14), std::ldexp(1.0, -16),
       true, true},
      {FloatFormat::kE2M1, "e2m1", 2, 1, 1, 6.0, 1.0, 0.5, false, false},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.name);
    const FloatFormatInfo& info = GetFloatFormatInfo(w.f);
    EXPECT_EQ(info.format, w.f);
    EXPECT_EQ(FloatFormatName(w.f), w.name);
    absl::StatusOr<FloatFormat> parsed = ParseFloatFormat(w.name);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, w.f);
    EXPECT_EQ(info.exponent_bits, w.e_bits);
    EXPECT_EQ(info.mantissa_bits, w.m_bits);
    EXPECT_EQ(info.bias, w.bias);
    EXPECT_EQ(info.max_finite, w.max_finite);
    EXPECT_EQ(info.min_normal, w.min_normal);
    EXPECT_EQ(info.min_subnormal, w.min_subnormal);
    EXPECT_EQ(info.has_infinity, w.has_infinity);
    EXPECT_EQ(info.has_nan, w.has_nan);
    // emax: max_finite's binade.
    EXPECT_GE(info.max_finite, std::ldexp(1.0f, info.emax));
    EXPECT_LT(info.max_finite, std::ldexp(1.0f, info.emax + 1));
    // The independent table agrees.
    const Table& t = TableOf(w.f);
    EXPECT_EQ(MaxFinite(w.f), w.max_finite);
    EXPECT_EQ(t.nonnegative[1].value, w.min_subnormal);
  }
  EXPECT_FALSE(ParseFloatFormat("fp8").ok());
  // E2M1's magnitudes, as OCP MX v1.0 lists them.
  std::vector<double> e2m1;
  for (const Code& c : TableOf(FloatFormat::kE2M1).nonnegative) e2m1.push_back(c.value);
  EXPECT_EQ(e2m1, (std::vector<double>{0, 0.5, 1, 1.5, 2, 3, 4, 6}));
}

// ---- Codes ---------------------------------------------------------------------------------

TEST(FloatFormatTest, DecodeMatchesTheTableForEveryCode) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    for (const Code& c : TableOf(f).codes) {
      const float got = DecodeFloat(c.code, f);
      switch (c.kind) {
        case Kind::kNaN:
          EXPECT_TRUE(std::isnan(got)) << int{c.code};
          break;
        case Kind::kInf:
          EXPECT_EQ(got, c.negative ? -kInf : kInf) << int{c.code};
          break;
        case Kind::kFinite:
          EXPECT_TRUE(SameFloat(got, c.value)) << "code " << int{c.code};
          break;
      }
      if (f == FloatFormat::kE2M1) {  // bits 7..4 are ignored
        EXPECT_TRUE(SameFloat(DecodeFloat(static_cast<uint8_t>(c.code | 0xA0), f), c.value));
      }
    }
  }
}

TEST(FloatFormatTest, EncodeInvertsDecodeOnEveryFiniteCode) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    for (const Code& c : TableOf(f).codes) {
      if (c.kind != Kind::kFinite) continue;
      EXPECT_EQ(int{EncodeFloat(static_cast<float>(c.value), f)}, int{c.code});  // -0 included
    }
  }
}

TEST(FloatFormatTest, RepresentableValuesAreFixedPoints) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    for (const Code& c : TableOf(f).codes) {
      if (c.kind != Kind::kFinite) continue;
      EXPECT_TRUE(SameFloat(RoundToFormat(static_cast<float>(c.value), f), c.value));
    }
  }
}

// Between adjacent values a < b: the midpoint goes to the even mantissa, one float ulp either
// side to the nearer one; the same mirrored for negatives.
TEST(FloatFormatTest, MidpointsTieToEvenAndNeighboursGoToTheNearer) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const std::vector<Code>& v = TableOf(f).nonnegative;
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      const Code& a = v[i];
      const Code& b = v[i + 1];
      const float mid = static_cast<float>((a.value + b.value) / 2);
      ASSERT_EQ(static_cast<double>(mid), (a.value + b.value) / 2);  // exact in float
      ASSERT_NE(a.mantissa & 1, b.mantissa & 1);
      const double even = (a.mantissa & 1) == 0 ? a.value : b.value;
      const float above = std::nextafter(mid, kInf);
      const float below = std::nextafter(mid, 0.0f);
      for (float sign : {1.0f, -1.0f}) {
        SCOPED_TRACE(::testing::Message() << "between " << a.value << " and " << b.value
                                          << ", sign " << sign);
        EXPECT_TRUE(SameFloat(RoundToFormat(sign * mid, f), sign * even));
        EXPECT_TRUE(SameFloat(RoundToFormat(sign * above, f), sign * b.value));
        EXPECT_TRUE(SameFloat(RoundToFormat(sign * below, f), sign * a.value));
        EXPECT_TRUE(SameFloat(DecodeFloat(EncodeFloat(sign * mid, f), f), sign * even));
        EXPECT_TRUE(SameFloat(DecodeFloat(EncodeFloat(sign * above, f), f), sign * b.value));
        EXPECT_TRUE(SameFloat(DecodeFloat(EncodeFloat(sign * below, f), f), sign * a.value));
      }
    }
  }
}

TEST(FloatFormatTest, BeyondMaxSaturates) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const float max = static_cast<float>(MaxFinite(f));
    const FloatFormatInfo& info = GetFloatFormatInfo(f);
    // Half a step of the top binade above max: where an unbounded format would round up.
    const float half_step_above = max + std::ldexp(1.0f, info.emax - info.mantissa_bits - 1);
    for (float x : {std::nextafter(max, kInf), half_step_above,
                    std::nextafter(half_step_above, kInf), 2 * max, 1e30f,
                    std::numeric_limits<float>::max(), kInf}) {
      EXPECT_EQ(RoundToFormat(x, f), max) << x;
      EXPECT_EQ(RoundToFormat(-x, f), -max) << -x;
      EXPECT_EQ(DecodeFloat(EncodeFloat(x, f), f), max) << x;
      EXPECT_EQ(DecodeFloat(EncodeFloat(-x, f), f), -max) << -x;
    }
  }
}

TEST(FloatFormatTest, TinyValuesRoundToZeroOrTheSmallestSubnormal) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const float min_sub = static_cast<float>(TableOf(f).nonnegative[1].value);
    const float half = min_sub / 2;
    for (float sign : {1.0f, -1.0f}) {
      EXPECT_TRUE(SameFloat(RoundToFormat(sign * half, f), sign * 0.0));  // tie: 0 is even
      EXPECT_TRUE(SameFloat(RoundToFormat(sign * std::nextafter(half, kInf), f), sign * min_sub));
      EXPECT_TRUE(SameFloat(RoundToFormat(sign * std::nextafter(half, 0.0f), f), sign * 0.0));
      EXPECT_TRUE(SameFloat(RoundToFormat(sign * min_sub, f), sign * min_sub));
      for (float tiny : {std::numeric_limits<float>::denorm_min(),
                         std::numeric_limits<float>::min(), 1e-30f, min_sub / 3}) {
        EXPECT_TRUE(SameFloat(RoundToFormat(sign * tiny, f), sign * 0.0)) << tiny;
      }
    }
  }
}

TEST(FloatFormatTest, SignedZeroAndSignSymmetry) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0x7f7fffffu);  // positive finite floats
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    EXPECT_TRUE(SameFloat(RoundToFormat(0.0f, f), 0.0));
    EXPECT_TRUE(SameFloat(RoundToFormat(-0.0f, f), -0.0));
    EXPECT_EQ(int{EncodeFloat(0.0f, f)}, 0);
    EXPECT_EQ(int{EncodeFloat(-0.0f, f)}, f == FloatFormat::kE2M1 ? 0x8 : 0x80);
    for (int i = 0; i < 10000; ++i) {
      const float x = FloatFromBits(bits(rng));
      const float r = RoundToFormat(x, f);
      ASSERT_TRUE(SameFloat(RoundToFormat(-x, f), -static_cast<double>(r))) << x;
      ASSERT_EQ(int{EncodeFloat(-x, f)},
                int{EncodeFloat(x, f)} | (f == FloatFormat::kE2M1 ? 0x8 : 0x80));
    }
  }
}

TEST(FloatFormatTest, NaNHandling) {
  for (FloatFormat f : kAllFormats) {
    EXPECT_TRUE(std::isnan(RoundToFormat(kNaN, f))) << FloatFormatName(f);
    EXPECT_TRUE(std::isnan(RoundToFormat(-kNaN, f))) << FloatFormatName(f);
  }
  // e4m3: the only NaN is S.1111.111; S.1111.110 is 448.
  EXPECT_EQ(int{EncodeFloat(kNaN, FloatFormat::kE4M3)}, 0x7F);
  EXPECT_EQ(int{EncodeFloat(-kNaN, FloatFormat::kE4M3)}, 0xFF);
  EXPECT_TRUE(std::isnan(DecodeFloat(0x7F, FloatFormat::kE4M3)));
  EXPECT_TRUE(std::isnan(DecodeFloat(0xFF, FloatFormat::kE4M3)));
  EXPECT_EQ(DecodeFloat(0x7E, FloatFormat::kE4M3), 448.0f);
  EXPECT_EQ(DecodeFloat(0x78, FloatFormat::kE4M3), 256.0f);  // S.1111.000 is finite
  // e5m2: S.11111.00 = Inf, S.11111.{01,10,11} = NaN.
  EXPECT_EQ(int{EncodeFloat(kNaN, FloatFormat::kE5M2)}, 0x7F);
  EXPECT_EQ(DecodeFloat(0x7C, FloatFormat::kE5M2), kInf);
  EXPECT_EQ(DecodeFloat(0xFC, FloatFormat::kE5M2), -kInf);
  for (uint8_t c : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF}) {
    EXPECT_TRUE(std::isnan(DecodeFloat(c, FloatFormat::kE5M2))) << int{c};
  }
  EXPECT_EQ(DecodeFloat(0x7B, FloatFormat::kE5M2), 57344.0f);
  // e2m1 has no NaN code: documented as +0.
  EXPECT_EQ(int{EncodeFloat(kNaN, FloatFormat::kE2M1)}, 0);
}

TEST(FloatFormatTest, KnownValues) {
  const FloatFormat e4m3 = FloatFormat::kE4M3, e5m2 = FloatFormat::kE5M2,
                    e2m1 = FloatFormat::kE2M1;
  struct Case {
    FloatFormat f;
    float x, want;
  };
  const Case cases[] = {
      {e4m3, 448, 448},
      {e4m3, 464, 448},  // tie 448 (m=110) / 480 (S.1111.111 is NaN): 448 either way
      {e4m3, 480, 448},
      {e4m3, 500, 448},
      {e4m3, 0.0625f, 0.0625f},
      {e4m3, 0.1f, 0.1015625f},  // 1.625 * 2^-4 (0.1 = 1.6 * 2^-4)
      {e4m3, 1.0625f, 1.0f},     // tie 1 / 1.125: 1 (m=000)
      {e4m3, 1.1875f, 1.25f},    // tie 1.125 / 1.25: 1.25 (m=010)
      {e4m3, 17, 16},            // tie 16 / 18: 16
      {e4m3, 19, 20},            // tie 18 / 20: 20
      {e4m3, 0x1p-9f, 0x1p-9f},  // smallest subnormal
      {e4m3, 0x1p-10f, 0},       // half of it: tie to 0
      {e4m3, 0x1.8p-9f, 0x1p-8f},  // tie 2^-9 (m=001) / 2^-8 (m=010)
      {e5m2, 57344, 57344},
      {e5m2, 61440, 57344},      // tie 57344 / 65536 (Inf): saturate
      {e5m2, 1e6f, 57344},
      {e5m2, 0x1p-16f, 0x1p-16f},
      {e5m2, 0x1p-17f, 0},
      {e5m2, 1.125f, 1.0f},      // tie 1 / 1.25: 1
      {e5m2, 1.375f, 1.5f},      // tie 1.25 / 1.5: 1.5
      {e2m1, 2.5f, 2},           // tie 2 (m=0) / 3 (m=1)
      {e2m1, 5, 4},              // tie 4 / 6
      {e2m1, 7, 6},              // saturate
      {e2m1, 3.5f, 4},           // tie 3 / 4
      {e2m1, 0.75f, 1},          // tie 0.5 / 1
      {e2m1, 1.25f, 1},          // tie 1 / 1.5
      {e2m1, 1.75f, 2},          // tie 1.5 / 2
      {e2m1, 0.25f, 0},          // tie 0 / 0.5
      {e2m1, 0.2500001f, 0.5f},
      {e2m1, -2.5f, -2},
      {e2m1, -100, -6},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RoundToFormat(c.x, c.f), c.want) << FloatFormatName(c.f) << " " << c.x;
    EXPECT_EQ(DecodeFloat(EncodeFloat(c.x, c.f), c.f), c.want) << FloatFormatName(c.f) << " "
                                                               << c.x;
  }
  EXPECT_EQ(int{EncodeFloat(448, e4m3)}, 0x7E);
  EXPECT_EQ(int{EncodeFloat(-1.5f, e2m1)}, 0xB);
  EXPECT_EQ(int{EncodeFloat(6, e2m1)}, 0x7);
  EXPECT_EQ(int{EncodeFloat(0.5f, e2m1)}, 0x1);
  EXPECT_EQ(int{EncodeFloat(57344, e5m2)}, 0x7B);
  EXPECT_EQ(int{EncodeFloat(1, e4m3)}, 0x38);  // 0.0111.000
  EXPECT_EQ(int{EncodeFloat(1, e5m2)}, 0x3C);  // 0.01111.00
}

// ---- Brute force ---------------------------------------------------------------------------

// Random floats: most with exponents around the format's range (random sign and mantissa),
// some with uniformly random bits (NaN expected to stay NaN).
TEST(FloatFormatTest, RandomFloatsMatchBruteForceNearest) {
  constexpr int kSamples = 1000000;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const FloatFormatInfo& info = GetFloatFormatInfo(f);
    std::uniform_int_distribution<int> exponent(1 - info.bias - info.mantissa_bits - 4,
                                                info.emax + 3);
    for (int i = 0; i < kSamples; ++i) {
      uint32_t bits;
      if (i % 5 == 0) {
        bits = any_bits(rng);
      } else {
        bits = (any_bits(rng) & 0x807fffffu) |
               (static_cast<uint32_t>(exponent(rng) + 127) << 23);
      }
      const float x = FloatFromBits(bits);
      if (std::isnan(x)) {
        ASSERT_TRUE(std::isnan(RoundToFormat(x, f)));
        continue;
      }
      ASSERT_TRUE(RoundsLikeOracle(f, x));
    }
  }
}

// A dense sweep: every 1009th positive float up to 4 x max (odd stride: all low-bit patterns),
// and every float within 64 ulps of each midpoint.
TEST(FloatFormatTest, DenseSweepMatchesBruteForceNearest) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const uint32_t end = BitsOf(static_cast<float>(4 * MaxFinite(f)));
    for (uint32_t bits = 0; bits < end; bits += 1009) {
      ASSERT_TRUE(RoundsLikeOracle(f, FloatFromBits(bits)));
      ASSERT_TRUE(RoundsLikeOracle(f, -FloatFromBits(bits)));
    }
    const std::vector<Code>& v = TableOf(f).nonnegative;
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      const uint32_t mid = BitsOf(static_cast<float>((v[i].value + v[i + 1].value) / 2));
      for (uint32_t bits = mid - 64; bits <= mid + 64; ++bits) {
        ASSERT_TRUE(RoundsLikeOracle(f, FloatFromBits(bits)));
      }
    }
  }
}

// ---- Scaled fake quantization --------------------------------------------------------------

// Oracle for one group: scale = amax / max (1 for amax 0), x -> nearest(x / scale) * scale.
void OracleFakeQuantizeGroup(float* x, int64_t n, FloatFormat f) {
  float amax = 0;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax == 0 ? 1.0f : amax / static_cast<float>(MaxFinite(f));
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(OracleRound(f, x[i] / scale)) * scale;
  }
}

std::vector<float> RandomMatrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> row_exponent(-20, 20);
  std::vector<float> m(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float row_scale = std::ldexp(1.0f, row_exponent(rng));
    for (int64_t c = 0; c < cols; ++c) {
      const float outlier = (c * 7 + r) % 23 == 0 ? 50.0f : 1.0f;
      m[r * cols + c] = normal(rng) * row_scale * outlier;
    }
  }
  return m;
}

TEST(FloatFormatTest, FakeQuantizeRowsFloatMatchesThePerRowOracle) {
  const int64_t rows = 9, cols = 77;
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    std::vector<float> x = RandomMatrix(rows, cols, 3);
    for (int64_t c = 0; c < cols; ++c) x[4 * cols + c] = 0.0f;  // an all-zero row
    std::vector<float> want = x;
    for (int64_t r = 0; r < rows; ++r) OracleFakeQuantizeGroup(want.data() + r * cols, cols, f);
    FakeQuantizeRowsFloat(x.data(), rows, cols, f);
    for (int64_t i = 0; i < rows * cols; ++i) ASSERT_EQ(x[i], want[i]) << "element " << i;
    for (int64_t c = 0; c < cols; ++c) EXPECT_EQ(x[4 * cols + c], 0.0f);

    // Per tensor: one scale for everything.
    std::vector<float> t = RandomMatrix(rows, cols, 4);
    std::vector<float> t_want = t;
    OracleFakeQuantizeGroup(t_want.data(), rows * cols, f);
    FakeQuantizeTensorFloat(t.data(), rows * cols, f);
    for (int64_t i = 0; i < rows * cols; ++i) ASSERT_EQ(t[i], t_want[i]) << "element " << i;
  }
}

// The scaled path (vectorised, branch-free) on the dense sweep: a group whose abs-max is the
// format's max has scale 1, so each element must come out as the brute-force nearest value.
TEST(FloatFormatTest, FakeQuantizeTensorFloatMatchesBruteForceOnADenseSweep) {
  for (FloatFormat f : kAllFormats) {
    SCOPED_TRACE(FloatFormatName(f));
    const float max = static_cast<float>(MaxFinite(f));
    std::vector<float> x = {max};
    for (uint32_t bits = 0; bits <= BitsOf(max); bits += 1009) {
      x.push_back(FloatFromBits(bits));
      x.push_back(-FloatFromBits(bits));
    }
    const std::vector<Code>& v = TableOf(f).nonnegative;
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      const uint32_t mid = BitsOf(static_cast<float>((v[i].value + v[i + 1].value) / 2));
      for (uint32_t bits = mid - 64; bits <= mid + 64; ++bits) x.push_back(FloatFromBits(bits));
    }
    std::vector<float> got = x;
    FakeQuantizeTensorFloat(got.data(), static_cast<int64_t>(got.size()), f);
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = static_cast<float>(OracleRound(f, x[i]));
      ASSERT_EQ(BitsOf(got[i]), BitsOf(want)) << x[i];
    }
  }
}

TEST(FloatFormatTest, FakeQuantizeRowsFloatErrorBoundAndScale) {
  // A row's amax maps onto max_finite; a value in the normal range keeps |x' - x| within half a
  // step, 2^-(M+1) relative (plus float rounding of the scale).
  const FloatFormat f = FloatFormat::kE4M3;
  EXPECT_EQ(FloatFormatScale(0.0f, f), 1.0f);
  EXPECT_EQ(FloatFormatScale(896.0f, f), 2.0f);
  EXPECT_GT(FloatFormatScale(std::numeric_limits<float>::denorm_min(), f), 0.0f);
  std::vector<float> x = RandomMatrix(4, 64, 5);
  const std::vector<float> original = x;
  FakeQuantizeRowsFloat(x.data(), 4, 64, f);
  for (int64_t r = 0; r < 4; ++r) {
    float amax = 0;
    for (int64_t c = 0; c < 64; ++c) amax = std::max(amax, std::fabs(original[r * 64 + c]));
    for (int64_t c = 0; c < 64; ++c) {
      const float o = original[r * 64 + c];
      if (std::fabs(o) / amax * 448.0f < 0x1p-6f) continue;  // subnormal in e4m3
      EXPECT_LE(std::fabs(x[r * 64 + c] - o), std::fabs(o) * (0x1p-4f + 1e-6f)) << o;
    }
  }
}

TEST(FloatFormatTest, NonFiniteRowBecomesNaNOthersUntouched) {
  std::vector<float> x = {448.0f, -224.0f, 0.5f, kInf, 0.5f, 0.25f, kNaN, 1.0f, 0.0f};
  FakeQuantizeRowsFloat(x.data(), 3, 3, FloatFormat::kE4M3);
  EXPECT_EQ(x[0], 448.0f);  // scale 1, values representable
  EXPECT_EQ(x[1], -224.0f);
  EXPECT_EQ(x[2], 0.5f);
  for (int i = 3; i < 9; ++i) EXPECT_TRUE(std::isnan(x[i])) << i;
}

// ---- MX ------------------------------------------------------------------------------------

TEST(MxTest, ElementDescriptors) {
  EXPECT_EQ(MxElementName(MxElement::kFp4E2M1), "mxfp4");
  EXPECT_EQ(MxElementName(MxElement::kInt8), "mxint8");
  EXPECT_EQ(MxElementEmax(MxElement::kFp4E2M1), 2);
  EXPECT_EQ(MxElementEmax(MxElement::kInt8), 0);
  EXPECT_EQ(MxElementMax(MxElement::kFp4E2M1), 6.0f);
  EXPECT_EQ(MxElementMax(MxElement::kInt8), 1.984375f);
}

TEST(MxTest, SharedScaleExponent) {
  const MxElement fp4 = MxElement::kFp4E2M1, int8 = MxElement::kInt8;
  EXPECT_EQ(MxScaleExponent(6.0f, fp4), 0);  // floor(log2 6) = 2, minus emax 2
  EXPECT_EQ(MxScaleExponent(4.0f, fp4), 0);
  EXPECT_EQ(MxScaleExponent(7.99f, fp4), 0);
  EXPECT_EQ(MxScaleExponent(8.0f, fp4), 1);
  EXPECT_EQ(MxScaleExponent(1.0f, fp4), -2);
  EXPECT_EQ(MxScaleExponent(std::nextafter(1.0f, 0.0f), fp4), -3);
  EXPECT_EQ(MxScaleExponent(-12.0f, fp4), 1);  // a magnitude
  EXPECT_EQ(MxScaleExponent(1.0f, int8), 0);
  EXPECT_EQ(MxScaleExponent(1.99f, int8), 0);
  EXPECT_EQ(MxScaleExponent(2.0f, int8), 1);
  EXPECT_EQ(MxScaleExponent(0.3f, int8), -2);
  EXPECT_EQ(MxScaleExponent(1000.0f, int8), 9);
  // E8M0 clamps: [-127, 127]; zero -> -127; NaN/Inf -> the NaN code.
  EXPECT_EQ(MxScaleExponent(0.0f, fp4), -127);
  EXPECT_EQ(MxScaleExponent(0x1p-126f, fp4), -127);  // -128 clamped
  EXPECT_EQ(MxScaleExponent(0x1p-126f, int8), -126);
  EXPECT_EQ(MxScaleExponent(0x1p-140f, int8), -127);  // float subnormal amax
  EXPECT_EQ(MxScaleExponent(std::numeric_limits<float>::max(), fp4), 125);
  EXPECT_EQ(MxScaleExponent(std::numeric_limits<float>::max(), int8), 127);
  EXPECT_EQ(MxScaleExponent(kInf, fp4), kMxScaleExponentNaN);
  EXPECT_EQ(MxScaleExponent(kNaN, int8), kMxScaleExponentNaN);
  EXPECT_EQ(kMxScaleExponentNaN + 127, 0xFF);  // E8M0 NaN code
}

TEST(MxTest, Fp4BlockWithKnownScale) {
  // amax 6 * 2^5: X = 2^5. Representable values reconstruct exactly; others round in X units.
  const float x_scale = 32.0f;
  std::vector<float> v = {6, 3, -1.5f, 0.5f, 0, -4, 1, 2, 0.25f, 2.5f, 5, -0.75f};
  for (float& e : v) e *= x_scale;
  const std::vector<float> want_units = {6, 3, -1.5f, 0.5f, 0, -4, 1, 2, 0, 2, 4, -1};
  FakeQuantizeMx(v.data(), 1, static_cast<int64_t>(v.size()), MxElement::kFp4E2M1);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], want_units[i] * x_scale) << i;

  // amax 7: floor rule gives X = 1 and 7 clamps to 6 (the spec's floor, not a round-up).
  std::vector<float> w = {7, 1};
  FakeQuantizeMx(w.data(), 1, 2, MxElement::kFp4E2M1);
  EXPECT_EQ(w[0], 6.0f);
  EXPECT_EQ(w[1], 1.0f);
}

TEST(MxTest, Int8BlockWithKnownScale) {
  // amax 1.5 -> X = 1: elements k/64.
  std::vector<float> v = {1.5f,           -1.0f, 5.0f / 64, 1.0f / 128, 3.0f / 128, -3.0f / 128,
                          127.0f / 64,    0.0f,  -1e-9f};
  std::vector<float> want = {1.5f, -1.0f, 5.0f / 64, 0.0f, 2.0f / 64, -2.0f / 64,
                             127.0f / 64, 0.0f, 0.0f};
  FakeQuantizeMx(v.data(), 1, static_cast<int64_t>(v.size()), MxElement::kInt8);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], want[i]) << i;
  EXPECT_FALSE(std::signbit(v.back()));  // int8 has no -0

  // amax 1.999 -> X = 1, 1.999 * 64 = 127.9 clamps to 127.
  std::vector<float> w = {1.999f, -1.999f, 0.5f};
  FakeQuantizeMx(w.data(), 1, 3, MxElement::kInt8);
  EXPECT_EQ(w[0], 127.0f / 64);
  EXPECT_EQ(w[1], -127.0f / 64);
  EXPECT_EQ(w[2], 0.5f);
}

TEST(MxTest, ZeroBlockStaysZero) {
  for (MxElement e : {MxElement::kFp4E2M1, MxElement::kInt8}) {
    std::vector<float> v(40, 0.0f);
    FakeQuantizeMx(v.data(), 1, 40, e);
    for (float x : v) EXPECT_EQ(x, 0.0f);
  }
}

TEST(MxTest, BlocksOf32AlongEachRow) {
  // A row of 70 = 32 + 32 + 6, blocks with amax 2^10, 2^-10 and 1. 2^-10 * 1.5 survives only
  // with its own block's scale; under a neighbour's it would flush to 0.
  const int64_t cols = 70;
  std::vector<float> row(2 * cols);
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const float unit = c < 32 ? 0x1p10f : (c < 64 ? 0x1p-10f : 1.0f);
      row[r * cols + c] = unit * ((c % 4 == 0) ? 1.5f : 0.5f) * (r == 0 ? 1.0f : -1.0f);
    }
  }
  std::vector<float> original = row;
  FakeQuantizeMx(row.data(), 2, cols, MxElement::kFp4E2M1);
  EXPECT_EQ(row, original);  // all values 1.5 * 2^k, 0.5 * 2^k with X = 2^(k-2): exact
  // Shift one element of block 1 to 2^-3: block 1's scale grows, its small values flush; block
  // 0 and the 6-element tail are untouched.
  row = original;
  row[40] = 0x1p-3f;
  FakeQuantizeMx(row.data(), 2, cols, MxElement::kFp4E2M1);
  for (int64_t c = 0; c < cols; ++c) {
    if (c == 40) {
      EXPECT_EQ(row[c], 0x1p-3f);
    } else if (c >= 32 && c < 64) {
      EXPECT_EQ(row[c], 0.0f) << c;  // 1.5 * 2^-10 / 2^-5 = 0.047 -> 0
    } else {
      EXPECT_EQ(row[c], original[c]) << c;
    }
  }
}

TEST(MxTest, NonFiniteBlockBecomesNaN) {
  std::vector<float> v(64, 1.0f);
  v[33] = kInf;
  FakeQuantizeMx(v.data(), 1, 64, MxElement::kInt8);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(v[i], 1.0f);
  for (int i = 32; i < 64; ++i) EXPECT_TRUE(std::isnan(v[i])) << i;
}

// Naive MX in double: amax, s = floor(log2 amax) - emax clamped to [-127, 127], X = 2^s;
// element = nearest E2M1 (table oracle) or round-half-even(v / X * 64) clamped to +-127.
void OracleFakeQuantizeMx(std::vector<float>& m, int64_t rows, int64_t cols, MxElement e) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < cols; b += 32) {
      const int64_t end = std::min(b + 32, cols);
      double amax = 0;
      for (int64_t c = b; c < end; ++c) amax = std::max(amax, std::fabs(double{m[r * cols + c]}));
      const int emax = e == MxElement::kFp4E2M1 ? 2 : 0;
      int s = amax == 0 ? -127 : static_cast<int>(std::floor(std::log2(amax))) - emax;
      s = std::min(std::max(s, -127), 127);
      const double x_scale = std::pow(2.0, s);
      for (int64_t c = b; c < end; ++c) {
        const double v = m[r * cols + c] / x_scale;
        double q;
        if (e == MxElement::kFp4E2M1) {
          const double mag = NearestNonnegative(TableOf(FloatFormat::kE2M1), std::fabs(v)).value;
          q = v < 0 ? -mag : mag;
        } else {
          const double t = v * 64;
          double k = std::floor(t);
          if (t - k > 0.5 || (t - k == 0.5 && std::fmod(k, 2.0) != 0)) k += 1;
          q = std::min(std::max(k, -127.0), 127.0) / 64;
        }
        m[r * cols + c] = static_cast<float>(q * x_scale);
      }
    }
  }
}

TEST(MxTest, RandomDataMatchesNaiveDoubleOracle) {
  struct Shape {
    int64_t rows, cols;
  };
  for (MxElement e : {MxElement::kFp4E2M1, MxElement::kInt8}) {
    SCOPED_TRACE(MxElementName(e));
    uint32_t seed = 10;
    for (Shape shape : {Shape{7, 70}, Shape{5, 32}, Shape{3, 100}, Shape{4, 5}, Shape{64, 256}}) {
      std::vector<float> x = RandomMatrix(shape.rows, shape.cols, ++seed);
      x[0] = 0.0f;
      // Row 0's second block: float-subnormal magnitudes, the scale clamps at 2^-127.
      for (int64_t c = 32; c < std::min<int64_t>(64, shape.cols); ++c) {
        x[c] = std::ldexp(x[c], -135);
      }
      std::vector<float> want = x;
      OracleFakeQuantizeMx(want, shape.rows, shape.cols, e);
      FakeQuantizeMx(x.data(), shape.rows, shape.cols, e);
      for (int64_t i = 0; i < shape.rows * shape.cols; ++i) {
        ASSERT_EQ(x[i], want[i]) << shape.rows << "x" << shape.cols << " element " << i;
      }
    }
  }
}

}  // namespace
}  // namespace sinkscope::quant
