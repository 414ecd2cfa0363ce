// dtype conversions against independent closed forms (ldexp), exhaustively for binary16.
#include "model/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "gtest/gtest.h"

namespace sinkscope::model {
namespace {

// binary16 by definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024).
double HalfByDefinition(uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double sign = s ? -1.0 : 1.0;
  if (e == 0x1f) return m == 0 ? sign * INFINITY : NAN;
  if (e == 0) return sign * std::ldexp(m, -24);
  return sign * std::ldexp(1024 + m, e - 25);
}

TEST(DTypeTest, HalfToFloatMatchesDefinitionForAllValues) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double want = HalfByDefinition(static_cast<uint16_t>(h));
    const float got = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << h;
    } else {
      ASSERT_EQ(static_cast<double>(got), want) << "half 0x" << std::hex << h;
    }
  }
}

TEST(DTypeTest, FloatToHalfRoundTripsAndRoundsToNearestEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << "half 0x" << std::hex << h;
  }
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0 = 0x3c00).
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(FloatToHalf(70000.0f), 0x7c00);  // overflow -> Inf
  // Random floats: the result is the nearest half (by exhaustive comparison with neighbours).
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-60000.0f, 60000.0f);
  for (int i = 0; i < 20000; ++i) {
    const float f = d(rng) * std::pow(10.0f, -static_cast<float>(i % 8));
    const uint16_t h = FloatToHalf(f);
    const double err = std::fabs(HalfByDefinition(h) - f);
    for (int delta : {-1, 1}) {
      const uint16_t n = static_cast<uint16_t>(h + delta);
      if (((n >> 10) & 0x1f) == 0x1f || (n ^ h) & 0x8000) continue;
      ASSERT_LE(err, std::fabs(HalfByDefinition(n) - f)) << f;
    }
  }
}

TEST(DTypeTest, Bf16IsTheUpperHalfOfAFloat) {
  std::mt19937 rng(2);
  for (int i = 0; i < 10000; ++i) {
    const uint16_t b = static_cast<uint16_t>(rng());
    uint32_t bits = static_cast<uint32_t>(b) << 16;
    float want;
    std::memcpy(&want, &bits, 4);
    const float got = Bf16ToFloat(b);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(got, want);
      ASSERT_EQ(FloatToBf16(got), b);
    }
  }
  // Ties to even: 1 + 2^-8 lies halfway between bf16 1.0 (0x3f80) and 1 + 2^-7 (0x3f81).
  EXPECT_EQ(FloatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
}

TEST(DTypeTest, ParseAndSizes) {
  EXPECT_EQ(*ParseDType("BF16"), DType::kBF16);
  EXPECT_EQ(DTypeSize(DType::kI64), 8);
  EXPECT_EQ(DTypeSize(DType::kF16), 2);
  absl::StatusOr<DType> bad = ParseDType("F8_E4M3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("F8_E4M3"), std::string::npos);
}

TEST(DTypeTest, ForEachFloatChunkCoversEveryElementOnce) {
  std::vector<uint16_t> data(10000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = FloatToBf16(static_cast<float>(i % 97));
  TypedTensorView v{reinterpret_cast<const uint8_t*>(data.data()), DType::kBF16, {100, 100}};
  int64_t seen = 0;
  double sum = 0.0;
  ForEachFloatChunk(v, [&](const float* x, int64_t n, int64_t off) {
    EXPECT_EQ(off, seen);
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    seen += n;
  });
  EXPECT_EQ(seen, 10000);
  double want = 0.0;
  for (size_t i = 0; i < data.size(); ++i) want += static_cast<double>(i % 97);
  EXPECT_EQ(sum, want);
}

}  // namespace
}  // namespace sinkscope::model
