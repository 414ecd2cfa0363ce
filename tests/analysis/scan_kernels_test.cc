// The weight scan's row kernels (analysis/scan_kernels.h) against naive loops over the same
// values: every kernel table this CPU runs (avx512, avx2, baseline), every row length from 0 to
// past a few blocks of 16 (tails), special values (NaN, Inf, subnormals, extremes, ties), and the
// tables against each other bit for bit.
#include "analysis/scan_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/dtype.h"
#include "quant/calibration.h"
#include "quant/quant_scheme.h"

namespace sinkscope::analysis::internal {
namespace {

std::vector<const ScanKernels*> Tables() { return SupportedScanKernels(); }

TEST(ScanKernelsTest, TablesNameThemselvesAndTheBaselineIsLast) {
  const std::vector<const ScanKernels*> t = Tables();
  ASSERT_FALSE(t.empty());
  EXPECT_STREQ(t.back()->name, "baseline");
  EXPECT_STREQ(ScanKernelsForCpu().name, t.front()->name);
  for (const ScanKernels* k : t) SCOPED_TRACE(k->name);
}

// Random bf16 / fp16 patterns of N(0, sigma) values (rounded to the format) with a few specials.
std::vector<uint16_t> Patterns(int64_t n, bool bf16, uint32_t seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<uint16_t> p(n);
  for (uint16_t& h : p) {
    const float v = normal(rng);
    h = bf16 ? model::FloatToBf16(v) : model::FloatToHalf(v);
  }
  return p;
}

float Widen(uint16_t h, bool bf16) { return bf16 ? model::Bf16ToFloat(h) : model::HalfToFloat(h); }

// The flags by definition: Inf / NaN; for bf16, a NaN or a nonzero |x| below 2^-63 or at least
// 2^61.
uint32_t NaiveFlags(const std::vector<uint16_t>& p, bool bf16) {
  uint32_t f = 0;
  for (uint16_t h : p) {
    const float v = Widen(h, bf16);
    if (!std::isfinite(v)) f |= kRowNonFinite;
    const float m = std::fabs(v);
    if (bf16 && (std::isnan(m) || (m != 0.0f && m < 0x1p-63f) || m >= 0x1p61f)) f |= kRowExtreme;
  }
  return f;
}

TEST(ScanKernelsTest, ConvertCountWidensCountsAndFlagsLikeNaiveLoops) {
  std::vector<float> table(1 << 16);
  for (uint32_t h = 0; h < (1u << 16); ++h) table[h] = model::HalfToFloat(static_cast<uint16_t>(h));
  for (const ScanKernels* k : Tables()) {
    SCOPED_TRACE(k->name);
    for (const bool bf16 : {true, false}) {
      SCOPED_TRACE(bf16 ? "bf16" : "f16");
      for (int64_t n : {0, 1, 7, 15, 16, 17, 31, 32, 33, 47, 100, 2056}) {
        SCOPED_TRACE(n);
        for (int special = 0; special < 6; ++special) {
          std::vector<uint16_t> p = Patterns(n, bf16, static_cast<uint32_t>(n * 7 + special));
          if (n > 0) {
            const int64_t at = (n * 5 + special) % n;  // the tail too, for short rows
            const uint16_t specials_bf16[6] = {0x3c00, 0x7fc0, 0xff80, 0x0001, 0x5e00, 0x1fff};
            const uint16_t specials_f16[6] = {0x3c00, 0x7e00, 0xfc00, 0x0001, 0x7bff, 0x8001};
            p[at] = bf16 ? specials_bf16[special] : specials_f16[special];
          }
          std::vector<float> out(n + 1, -7.0f);
          std::vector<uint32_t> hist(1 << 16, 3), want_hist(1 << 16, 3);
          const uint8_t* src = reinterpret_cast<const uint8_t*>(p.data());
          const uint32_t flags = bf16 ? k->convert_count_bf16(src, n, out.data(), hist.data())
                                      : k->convert_count_f16(src, n, table.data(), out.data(),
                                                             hist.data());
          EXPECT_EQ(flags, NaiveFlags(p, bf16));
          for (int64_t i = 0; i < n; ++i) {
            const float want = Widen(p[i], bf16);
            uint32_t a, b;
            std::memcpy(&a, &out[i], 4);
            std::memcpy(&b, &want, 4);
            ASSERT_EQ(a, b) << i;  // bit for bit, NaN payloads included
            ++want_hist[p[i]];
          }
          EXPECT_EQ(out[n], -7.0f);  // nothing written past the row
          EXPECT_EQ(hist, want_hist);
        }
      }
    }
  }
}

// Values whose squares are exact in float: bf16 with 2^-63 <= |x| < 2^61 (or 0).
std::vector<float> Row(int64_t n, uint32_t seed, float sigma = 0.02f) {
  std::vector<uint16_t> p = Patterns(n, /*bf16=*/true, seed, sigma);
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = Widen(p[i], true);
  return x;
}

TEST(ScanKernelsTest, ProfileRowMatchesNaiveLoops) {
  for (const ScanKernels* k : Tables()) {
    SCOPED_TRACE(k->name);
    for (int64_t n : {1, 2, 15, 16, 17, 33, 64, 100, 5632}) {
      SCOPED_TRACE(n);
      std::vector<float> x = Row(n, static_cast<uint32_t>(n));
      x[n / 2] = model::Bf16ToFloat(model::FloatToBf16(40.0f * x[n / 2] + 1.0f));  // outlier
      std::vector<float> ch_max(n), ch_sq(n), want_max(n), want_sq(n);
      for (int64_t i = 0; i < n; ++i) {
        ch_max[i] = want_max[i] = 0.01f * static_cast<float>(i % 3);
        ch_sq[i] = want_sq[i] = 0.5f * static_cast<float>(i % 5);
      }
      const RowProfile p = k->profile_row(x.data(), n, ch_max.data(), ch_sq.data());
      float lo = x[0], hi = x[0], mx = 0.0f;
      long double sq = 0;
      for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
        mx = std::max(mx, std::fabs(x[i]));
        sq += static_cast<long double>(x[i]) * x[i];
        want_max[i] = std::max(want_max[i], std::fabs(x[i]));
        want_sq[i] += x[i] * x[i];  // one float add of an exact square
      }
      EXPECT_EQ(p.lo, lo);
      EXPECT_EQ(p.hi, hi);
      EXPECT_EQ(p.abs_max, mx);
      EXPECT_NEAR(p.sum_sq, static_cast<double>(sq), 1e-15 * static_cast<double>(sq));
      EXPECT_EQ(ch_max, want_max);
      EXPECT_EQ(ch_sq, want_sq);
    }
  }
}

struct ErrorCase {
  std::string name;
  std::vector<float> x;
  quant::ScaleAndZeroPoint p;
  int32_t qmin, qmax;
};

// The error terms by definition: quant::QuantizeValue / DequantizeValue per value, long double.
struct NaiveError {
  long double approx_sq = 0, err_sq = 0;
  double max_abs = 0;
};
NaiveError Naive(const ErrorCase& c) {
  NaiveError e;
  for (float v : c.x) {
    const float a = quant::DequantizeValue(quant::QuantizeValue(v, c.p, c.qmin, c.qmax), c.p);
    const long double d = static_cast<long double>(v) - a;
    e.approx_sq += static_cast<long double>(a) * a;
    e.err_sq += d * d;
    e.max_abs = std::max(e.max_abs, std::fabs(static_cast<double>(v) - a));
  }
  return e;
}

float MaxAbs(const std::vector<float>& x) {
  float m = 0.0f;
  for (float v : x) m = std::max(m, std::fabs(v));
  return m;
}

std::vector<ErrorCase> ErrorCases() {
  std::vector<ErrorCase> cases;
  const auto min_max = [&](const std::string& name, std::vector<float> x, int bits) {
    quant::QuantScheme s = quant::QuantScheme::PerChannel(0);
    s.bits = bits;
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    cases.push_back({name, x, quant::CalibrateMinMax(*lo, *hi, s), s.qmin(), s.qmax()});
  };
  for (int64_t n : {1, 5, 16, 17, 40, 5632}) {
    min_max("int8 n=" + std::to_string(n), Row(n, 100 + n), 8);
    min_max("int4 n=" + std::to_string(n), Row(n, 200 + n), 4);
  }
  min_max("constant", std::vector<float>(37, -0.375f), 8);
  min_max("zeros", std::vector<float>(33, 0.0f), 8);
  min_max("huge", Row(50, 7, 1e30f), 8);
  min_max("subnormal", Row(50, 8, 1e-39f), 8);
  // Exact ties: a power-of-two scale makes x / scale exact, (k + 0.5) scale rounds to even.
  {
    std::vector<float> x;
    for (int k = -20; k <= 20; ++k) x.push_back((static_cast<float>(k) + 0.5f) * 0.25f);
    cases.push_back({"ties", x, {0.25f, 0}, -127, 127});
  }
  // Near ties with a scale that is no power of two: x / scale lands within a few ulps of
  // k + 0.5, where x * (1 / scale) may round the other way.
  {
    const float scale = 0.0123456789f;
    std::vector<float> x;
    for (int k = -100; k <= 100; ++k) {
      const float t = (static_cast<float>(k) + 0.5f) * scale;
      x.push_back(std::nextafter(t, 0.0f));
      x.push_back(t);
      x.push_back(std::nextafter(t, 1.0f));
    }
    cases.push_back({"near ties", x, {scale, 0}, -127, 127});
  }
  // Saturation (scale too small for the range) and an asymmetric zero point.
  cases.push_back({"saturating", Row(100, 9, 1.0f), {0.001f, 0}, -127, 127});
  cases.push_back({"zero point", Row(100, 10, 1.0f), {0.01f, 3}, 0, 255});
  // A scale whose reciprocal overflows: every block divides.
  cases.push_back({"tiny scale", {0.0f, 1e-39f, -2e-39f, 3e-45f}, {1e-39f, 0}, -127, 127});
  return cases;
}

TEST(ScanKernelsTest, GroupErrorSumsMatchTheDefinitionPerValue) {
  for (const ScanKernels* k : Tables()) {
    SCOPED_TRACE(k->name);
    for (const ErrorCase& c : ErrorCases()) {
      SCOPED_TRACE(c.name);
      const ErrorSums e = k->group_error_sums(c.x.data(), static_cast<int64_t>(c.x.size()),
                                              MaxAbs(c.x), c.p, c.qmin, c.qmax);
      const NaiveError w = Naive(c);
      EXPECT_NEAR(e.approx_sq, static_cast<double>(w.approx_sq),
                  1e-14 * static_cast<double>(w.approx_sq));
      EXPECT_NEAR(e.err_sq, static_cast<double>(w.err_sq), 1e-14 * static_cast<double>(w.err_sq));
      EXPECT_EQ(e.max_abs, w.max_abs);
      EXPECT_EQ(e.ref_sq, 0.0);
      EXPECT_EQ(e.dot, 0.0);
    }
  }
}

// Every finite bf16 value as one group, under min-max scales of a few ranges: one value
// quantized to the wrong code would move err_sq by ~1e-5 relative.
TEST(ScanKernelsTest, ReciprocalRoundsLikeTheDivisionForEveryBf16Value) {
  for (const float range : {1.0f, 0.02f, 3.3f, 1e-3f}) {
    SCOPED_TRACE(range);
    std::vector<float> x;
    for (uint32_t h = 0; h < (1u << 16); ++h) {
      const float v = model::Bf16ToFloat(static_cast<uint16_t>(h));
      if (std::isfinite(v) && std::fabs(v) <= range) x.push_back(v);
    }
    for (const int bits : {8, 4}) {
      quant::QuantScheme s = quant::QuantScheme::PerChannel(0);
      s.bits = bits;
      const ErrorCase c{"all", x, quant::CalibrateMinMax(-range, range, s), s.qmin(), s.qmax()};
      const NaiveError w = Naive(c);
      for (const ScanKernels* k : Tables()) {
        SCOPED_TRACE(k->name);
        const ErrorSums e = k->group_error_sums(x.data(), static_cast<int64_t>(x.size()),
                                                MaxAbs(x), c.p, c.qmin, c.qmax);
        EXPECT_NEAR(e.err_sq, static_cast<double>(w.err_sq), 1e-13 * static_cast<double>(w.err_sq));
        EXPECT_EQ(e.max_abs, w.max_abs);
      }
    }
  }
}

TEST(ScanKernelsTest, GenericKernelsMatchNaiveLoops) {
  for (const ScanKernels* k : Tables()) {
    SCOPED_TRACE(k->name);
    for (int64_t n : {1, 3, 16, 17, 50, 1000}) {
      SCOPED_TRACE(n);
      const std::vector<float> x = Row(n, 300 + n, 2.0f);
      float lo = 0, hi = 0;
      k->row_range(x.data(), n, &lo, &hi);
      EXPECT_EQ(lo, *std::min_element(x.begin(), x.end()));
      EXPECT_EQ(hi, *std::max_element(x.begin(), x.end()));
      EXPECT_TRUE(k->all_finite(x.data(), n));
      std::vector<float> y = x;
      y[n - 1] = std::numeric_limits<float>::quiet_NaN();
      EXPECT_FALSE(k->all_finite(y.data(), n));
      std::vector<float> ch_max(n, 0.5f);
      std::vector<double> ch_sq(n, 1.0);
      float m = 0;
      const double sq = k->profile_finite(x.data(), n, ch_max.data(), ch_sq.data(), &m);
      long double want = 0;
      for (int64_t i = 0; i < n; ++i) {
        want += static_cast<long double>(x[i]) * x[i];
        EXPECT_EQ(ch_max[i], std::max(0.5f, std::fabs(x[i])));
        EXPECT_EQ(ch_sq[i], 1.0 + static_cast<double>(x[i]) * x[i]);
      }
      EXPECT_NEAR(sq, static_cast<double>(want), 1e-15 * static_cast<double>(want));
      EXPECT_EQ(m, MaxAbs(x));
    }
  }
}

// The tables against each other: the same bits for the same input, sums included.
TEST(ScanKernelsTest, EveryTableGivesTheSameBits) {
  const std::vector<const ScanKernels*> t = Tables();
  const ScanKernels& base = *t.back();
  for (int64_t n : {17, 100, 2056, 5632}) {
    SCOPED_TRACE(n);
    const std::vector<float> x = Row(n, 400 + n);
    std::vector<float> bm(n), bs(n);
    const RowProfile bp = base.profile_row(x.data(), n, bm.data(), bs.data());
    std::vector<float> bm2(n);
    std::vector<double> bs2(n);
    float bmax = 0;
    const double bsq = base.profile_finite(x.data(), n, bm2.data(), bs2.data(), &bmax);
    for (const ErrorCase& c : ErrorCases()) {
      const ErrorSums be = base.group_error_sums(c.x.data(), static_cast<int64_t>(c.x.size()),
                                                 MaxAbs(c.x), c.p, c.qmin, c.qmax);
      for (const ScanKernels* k : t) {
        SCOPED_TRACE(std::string(k->name) + " " + c.name);
        const ErrorSums e = k->group_error_sums(c.x.data(), static_cast<int64_t>(c.x.size()),
                                                MaxAbs(c.x), c.p, c.qmin, c.qmax);
        EXPECT_EQ(std::memcmp(&e, &be, sizeof(e)), 0);
      }
    }
    for (const ScanKernels* k : t) {
      SCOPED_TRACE(k->name);
      std::vector<float> m(n), s(n);
      const RowProfile p = k->profile_row(x.data(), n, m.data(), s.data());
      EXPECT_EQ(p.sum_sq, bp.sum_sq);
      EXPECT_EQ(p.lo, bp.lo);
      EXPECT_EQ(p.hi, bp.hi);
      EXPECT_EQ(s, bs);
      std::vector<float> m2(n);
      std::vector<double> s2(n);
      float mx = 0;
      EXPECT_EQ(k->profile_finite(x.data(), n, m2.data(), s2.data(), &mx), bsq);
      EXPECT_EQ(s2, bs2);
    }
  }
}

}  // namespace
}  // namespace sinkscope::analysis::internal
