// Tests of quant/quantize.h and quant/quant_params.h against independent loops.
#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "quant/quant_params.h"

namespace sinkscope::quant {
namespace {

std::vector<float> RandomValues(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Independent oracle of which elements share a parameter: a key from the coordinates.
int64_t GroupKey(const Shape& shape, int64_t flat, const QuantScheme& s) {
  std::vector<int64_t> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  const int rank = static_cast<int>(shape.size());
  const int axis = s.axis < 0 ? s.axis + rank : s.axis;
  switch (s.granularity) {
    case Granularity::kPerTensor:
      return 0;
    case Granularity::kPerChannel:
      return idx[axis];
    case Granularity::kPerToken: {
      int64_t key = 0;
      for (int d = 0; d + 1 < rank; ++d) key = key * shape[d] + idx[d];
      return key;
    }
    case Granularity::kPerGroup: {
      int64_t key = 0;
      for (int d = 0; d < rank; ++d) {
        const int64_t extent = d == axis ? (shape[d] + s.group_size - 1) / s.group_size : shape[d];
        key = key * extent + (d == axis ? idx[d] / s.group_size : idx[d]);
      }
      return key;
    }
  }
  return -1;
}

struct SchemeCase {
  const char* name;
  QuantScheme scheme;
  Shape shape;
};

std::vector<SchemeCase> AllGranularities() {
  std::vector<SchemeCase> cases;
  const Shape s3 = {3, 10, 7};
  for (bool sym : {true, false}) {
    for (int bits : {8, 4, 2}) {
      auto add = [&](const char* name, QuantScheme q, Shape shape) {
        q.bits = bits;
        q.symmetric = sym;
        cases.push_back({name, q, shape});
      };
      add("per-tensor", QuantScheme::PerTensor(), {16, 24});
      add("per-channel axis 0", QuantScheme::PerChannel(0), {16, 24});
      add("per-channel axis 1", QuantScheme::PerChannel(1), {16, 24});
      add("per-channel axis -1 of rank 3", QuantScheme::PerChannel(-1), s3);
      add("per-channel axis 1 of rank 3", QuantScheme::PerChannel(1), s3);
      add("per-token", QuantScheme::PerToken(), {16, 24});
      add("per-token rank 3", QuantScheme::PerToken(), s3);
      add("per-group axis 1 g=8", QuantScheme::PerGroup(1, 8), {16, 24});
      add("per-group axis 0 g=5 (ragged)", QuantScheme::PerGroup(0, 5), {16, 24});
      add("per-group axis 1 g=4 of rank 3", QuantScheme::PerGroup(1, 4), s3);
    }
  }
  return cases;
}

TEST(QuantizeTest, RoundTripWithinHalfStepForEveryGranularity) {
  for (const SchemeCase& c : AllGranularities()) {
    SCOPED_TRACE(std::string(c.name) + " " + c.scheme.ToString());
    const std::vector<float> v = RandomValues(NumElements(c.shape), 7, 3.0f);
    ConstTensorView view{v.data(), c.shape};
    absl::StatusOr<QuantizedTensor> q = Quantize(view, c.scheme, "x");
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->clipped, 0);  // min-max never clips
    const std::vector<float> back = Dequantize(*q);
    for (int64_t i = 0; i < view.size(); ++i) {
      const float scale = q->params.scales[q->params.ParamIndex(i)];
      ASSERT_LE(std::fabs(back[i] - v[i]), 0.5f * scale * (1.0f + 1e-5f) + 1e-7f)
          << "element " << i;
      ASSERT_GE(q->code(i), c.scheme.qmin());
      ASSERT_LE(q->code(i), c.scheme.qmax());
    }
  }
}

TEST(QuantizeTest, ParameterGroupingMatchesCoordinateOracle) {
  for (const SchemeCase& c : AllGranularities()) {
    SCOPED_TRACE(std::string(c.name));
    const std::vector<float> v = RandomValues(NumElements(c.shape), 11);
    absl::StatusOr<QuantParams> p = ComputeQuantParams({v.data(), c.shape}, c.scheme, "x");
    ASSERT_TRUE(p.ok()) << p.status();
    // Oracle: the min-max scale of each coordinate group, computed from scratch.
    std::map<int64_t, std::pair<float, float>> ranges;
    for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
      auto [it, inserted] = ranges.try_emplace(GroupKey(c.shape, i, c.scheme), v[i], v[i]);
      it->second.first = std::min(it->second.first, v[i]);
      it->second.second = std::max(it->second.second, v[i]);
    }
    EXPECT_EQ(static_cast<size_t>(p->layout.num_params), ranges.size());
    for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
      auto [lo, hi] = ranges[GroupKey(c.shape, i, c.scheme)];
      if (lo == hi) {  // a constant group is stored with scale |c| so that it is exact
        ASSERT_EQ(p->scales[p->ParamIndex(i)], std::fabs(lo)) << "element " << i;
        continue;
      }
      lo = std::min(lo, 0.0f);
      hi = std::max(hi, 0.0f);
      const double expected = c.scheme.symmetric
                                  ? std::max(-lo, hi) / ((1 << (c.scheme.bits - 1)) - 1.0)
                                  : (static_cast<double>(hi) - lo) / ((1 << c.scheme.bits) - 1.0);
      ASSERT_NEAR(p->scales[p->ParamIndex(i)], expected, expected * 1e-6) << "element " << i;
    }
  }
}

TEST(QuantizeTest, RoundsHalfToEven) {
  // Scale 1 (max 127, 8-bit symmetric): 2.5 -> 2, 3.5 -> 4, -2.5 -> -2.
  std::vector<float> v = {127.0f, 2.5f, 3.5f, -2.5f, 0.5f, 1.5f};
  absl::StatusOr<QuantizedTensor> q = Quantize({v.data(), {6}}, QuantScheme{}, "x");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->params.scales[0], 1.0f);
  EXPECT_EQ(q->code(1), 2);
  EXPECT_EQ(q->code(2), 4);
  EXPECT_EQ(q->code(3), -2);
  EXPECT_EQ(q->code(4), 0);
  EXPECT_EQ(q->code(5), 2);
}

TEST(QuantizeTest, SaturatesOutsideCalibratedRange) {
  std::vector<float> calib = {-1.0f, 1.0f};
  absl::StatusOr<QuantParams> p = ComputeQuantParams({calib.data(), {2}}, QuantScheme{}, "c");
  ASSERT_TRUE(p.ok());
  std::vector<float> x = {5.0f, -5.0f};
  absl::StatusOr<QuantizedTensor> q = QuantizeWithParams({x.data(), {2}}, *p, "x");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->code(0), 127);
  EXPECT_EQ(q->code(1), -127);
  EXPECT_EQ(q->clipped, 2);
}

TEST(QuantizeTest, ZerosAndConstantsAreExact) {
  for (bool sym : {true, false}) {
    for (int bits : {8, 3, 2}) {
      for (float c : {0.0f, 1.0f, -3.7f, 1e-20f, 3.0e38f, -0.1234567f}) {
        QuantScheme s = QuantScheme::PerChannel(0).WithBits(bits);
        s.symmetric = sym;
        // Row 0 constant c, row 1 zeros, row 2 mixed (so per-channel groups differ).
        FloatMatrix m(3, 5);
        m.row(0).setConstant(c);
        m.row(1).setZero();
        m.row(2) << 1, -2, 3, -4, 5;
        absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(m), s, "m");
        ASSERT_TRUE(q.ok()) << q.status();
        const FloatMatrix back = DequantizeMatrix(*q);
        for (int j = 0; j < 5; ++j) {
          EXPECT_EQ(back(0, j), c) << s.ToString() << " c=" << c;
          EXPECT_EQ(back(1, j), 0.0f) << s.ToString();
        }
      }
    }
  }
}

TEST(QuantizeTest, NanAndInfAreErrorsNamingTheTensor) {
  FloatMatrix m = FloatMatrix::Ones(4, 3);
  m(2, 1) = std::nanf("");
  absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(m), QuantScheme{}, "layer3.k_proj");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find("layer3.k_proj"), std::string::npos) << q.status();
  EXPECT_NE(q.status().message().find("[2, 1]"), std::string::npos) << q.status();
  EXPECT_NE(q.status().message().find("NaN"), std::string::npos) << q.status();
  m(2, 1) = -INFINITY;
  for (auto s : {QuantScheme{}, QuantScheme{}.WithMseClip(), QuantScheme{}.WithPercentile(99)}) {
    q = Quantize(ViewOf(m), s, "w");
    ASSERT_FALSE(q.ok());
    EXPECT_NE(q.status().message().find("Inf"), std::string::npos) << q.status();
  }
}

TEST(QuantizeTest, InvalidSchemesAreErrors) {
  FloatMatrix m = FloatMatrix::Ones(4, 3);
  EXPECT_FALSE(Quantize(ViewOf(m), QuantScheme{}.WithBits(9), "m").ok());
  EXPECT_FALSE(Quantize(ViewOf(m), QuantScheme{}.WithBits(1), "m").ok());
  EXPECT_FALSE(Quantize(ViewOf(m), QuantScheme::PerChannel(2), "m").ok());
  EXPECT_FALSE(Quantize(ViewOf(m), QuantScheme::PerGroup(1, 0), "m").ok());
  EXPECT_FALSE(Quantize(ViewOf(m), QuantScheme{}.WithPercentile(40), "m").ok());
  FloatMatrix empty(0, 3);
  EXPECT_FALSE(Quantize(ViewOf(empty), QuantScheme{}, "m").ok());
}

// Heavy tails: Laplace values (an exponential magnitude with a random sign), the usual model of
// trained weights; their rare large values stretch a min-max range.
std::vector<float> HeavyTailed(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> mag(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(n);
  for (float& x : v) x = (sign(rng) ? 1.0f : -1.0f) * mag(rng);
  return v;
}

double Mse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s / a.size();
}

TEST(QuantizeTest, MseClippingBeatsMinMaxOnHeavyTails) {
  const std::vector<float> v = HeavyTailed(20000, 3);
  for (int bits : {8, 4}) {
    for (bool sym : {true, false}) {
      QuantScheme mm = QuantScheme{}.WithBits(bits);
      mm.symmetric = sym;
      const QuantScheme mse = mm.WithMseClip();
      absl::StatusOr<QuantizedTensor> q_mm = Quantize({v.data(), {20000}}, mm, "v");
      absl::StatusOr<QuantizedTensor> q_mse = Quantize({v.data(), {20000}}, mse, "v");
      ASSERT_TRUE(q_mm.ok() && q_mse.ok());
      const double e_mm = Mse(v, Dequantize(*q_mm));
      const double e_mse = Mse(v, Dequantize(*q_mse));
      // Clipping pays more the fewer the bits (Banner et al., ACIQ): >= 5% at 8, >= 20% at 4.
      EXPECT_LT(e_mse, (bits == 8 ? 0.95 : 0.8) * e_mm) << mm.ToString() << " scales " << q_mm->params.scales[0]
                                    << " vs " << q_mse->params.scales[0] << " mse " << e_mse
                                    << " vs " << e_mm;
      EXPECT_GT(q_mse->clipped, 0);
    }
  }
}

TEST(QuantizeTest, PercentileClipsAtTheNearestRank) {
  // |x| = 1..1000: the 99th percentile by nearest rank is 990.
  std::vector<float> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = (i % 2 ? -1.0f : 1.0f) * (i + 1);
  absl::StatusOr<QuantParams> p =
      ComputeQuantParams({v.data(), {1000}}, QuantScheme{}.WithPercentile(99.0), "v");
  ASSERT_TRUE(p.ok());
  EXPECT_FLOAT_EQ(p->scales[0], 990.0f / 127.0f);
  // Asymmetric: [P1, P99] of the signed values. Sorted: -999, -997, ..., 998, 1000.
  std::vector<float> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const float lo = sorted[9], hi = sorted[989];  // ranks ceil(0.01 n) and ceil(0.99 n)
  p = ComputeQuantParams({v.data(), {1000}}, QuantScheme{}.Asymmetric().WithPercentile(99.0),
                         "v");
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->scales[0], (hi - lo) / 255.0, 1e-4);
}

TEST(QuantizeTest, AsymmetricZeroIsExactAndCodesAreUnsigned) {
  std::vector<float> v = RandomValues(500, 5);
  for (float& x : v) x = std::fabs(x) + 0.25f;  // all positive: range widened to include 0
  v[17] = 0.0f;
  absl::StatusOr<QuantizedTensor> q = Quantize({v.data(), {500}}, QuantScheme{}.Asymmetric(), "v");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->is_signed());
  EXPECT_EQ(q->params.zero_points[0], 0);
  EXPECT_EQ(Dequantize(*q)[17], 0.0f);
}

// TransposeQuantized against quantizing the transposed floats directly: same codes (moved),
// same scales, same dequantized values; every granularity it accepts, odd sizes (blocks of 64).
TEST(QuantizeTest, TransposeQuantizedEqualsQuantizingTheTranspose) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{5, 7}, {70, 131}, {1, 3}}) {
    FloatMatrix w(rows, cols);
    for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = normal(rng) * (1 + i % 5);
    const FloatMatrix wt = w.transpose();
    struct Case {
      QuantScheme scheme, transposed;
    };
    for (const Case& c : {Case{QuantScheme::PerChannel(0), QuantScheme::PerChannel(1)},
                          Case{QuantScheme::PerChannel(-1), QuantScheme::PerChannel(0)},
                          Case{QuantScheme::PerTensor(), QuantScheme::PerTensor()},
                          Case{QuantScheme::PerChannel(0).Asymmetric().WithBits(4),
                               QuantScheme::PerChannel(1).Asymmetric().WithBits(4)}}) {
      absl::StatusOr<QuantizedTensor> q = Quantize(ViewOf(w), c.scheme, "w");
      ASSERT_TRUE(q.ok()) << q.status();
      absl::StatusOr<QuantizedTensor> t = TransposeQuantized(*q);
      ASSERT_TRUE(t.ok()) << t.status();
      absl::StatusOr<QuantizedTensor> want = Quantize(ViewOf(wt), c.transposed, "wt");
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_EQ(t->shape(), want->shape());
      EXPECT_EQ(t->bytes, want->bytes);
      EXPECT_EQ(t->params.scales, want->params.scales);
      EXPECT_EQ(t->params.zero_points, want->params.zero_points);
      EXPECT_EQ(t->params.scheme.granularity, want->params.scheme.granularity);
      for (int64_t r = 0; r < cols; ++r) {
        for (int64_t k = 0; k < rows; ++k) {
          const int64_t ft = r * rows + k, fq = k * cols + r;
          ASSERT_EQ(DequantizeValue(t->code(ft), t->params.Param(t->params.ParamIndex(ft))),
                    DequantizeValue(q->code(fq), q->params.Param(q->params.ParamIndex(fq))));
        }
      }
    }
  }
  absl::StatusOr<QuantizedTensor> per_token = Quantize(ViewOf(FloatMatrix::Ones(3, 4)),
                                                       QuantScheme::PerToken(), "x");
  ASSERT_TRUE(per_token.ok());
  EXPECT_FALSE(TransposeQuantized(*per_token).ok());
}

}  // namespace
}  // namespace sinkscope::quant
