// MeasureEmpiricalInfluence: on uniform attention (a linear stack of window means and the
// residual) the measured curve is the exact theory at alpha = 0.5; on random weights a valid
// distribution whose reach grows with a full layer; options are checked.
#include "analysis/empirical_receptive_field.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::analysis {
namespace {

EmpiricalResult Measure(const EmpiricalOptions& o) {
  absl::StatusOr<EmpiricalResult> r = MeasureEmpiricalInfluence(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : EmpiricalResult{};
}

double MaxAbsDifference(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

void ExpectDistribution(const std::vector<double>& p) {
  ASSERT_FALSE(p.empty());
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
  for (double v : p) EXPECT_GE(v, 0.0);
}

// With Wq = 0 and Wv = Wo = I each layer is h + (mean of h over the visible keys): exactly
// 2 (0.5 h + 0.5 mean), the theory at alpha = 0.5 once normalised.
TEST(EmpiricalReceptiveFieldTest, UniformAttentionIsTheTheoryAtHalf) {
  EmpiricalOptions o;
  o.uniform_attention = true;
  o.layers = 3;
  o.window = 4;
  o.pattern = "S";
  const EmpiricalResult r = Measure(o);
  ASSERT_EQ(r.measured.size(), 13u);  // d = 0..layers * window
  absl::StatusOr<std::vector<double>> theory =
      TheoryOnMeasuredDistances(o, r.theory_context, r.measured.size(), 0.5);
  ASSERT_TRUE(theory.ok()) << theory.status();
  // All-sliding: exact up to fp32 rounding.
  EXPECT_LT(MaxAbsDifference(r.measured, *theory), 1e-5);
  // Nothing beyond the sliding reach L (W - 1) = 9: the mask is exact.
  for (size_t d = 10; d < r.measured.size(); ++d) EXPECT_EQ(r.measured[d], 0.0) << d;
  EXPECT_GT(r.fitted_alpha, 0.0);
  EXPECT_LT(r.fitted_alpha, 1.0);
  ExpectDistribution(r.theory);
}

// A full layer's query at t averages t + 1 keys, the theory's N keys: equal to first order at
// the mean key count (theory_context), with the sources far from the start.
TEST(EmpiricalReceptiveFieldTest, UniformAttentionWithFullLayerIsCloseToTheTheoryAtHalf) {
  EmpiricalOptions o;
  o.uniform_attention = true;
  o.layers = 3;
  o.window = 4;
  o.pattern = "SF";
  const EmpiricalResult r = Measure(o);
  absl::StatusOr<std::vector<double>> theory =
      TheoryOnMeasuredDistances(o, r.theory_context, r.measured.size(), 0.5);
  ASSERT_TRUE(theory.ok()) << theory.status();
  EXPECT_LT(MaxAbsDifference(r.measured, *theory), 2e-3);
  double l1 = 0.0;
  for (size_t d = 0; d < r.measured.size(); ++d) l1 += std::abs(r.measured[d] - (*theory)[d]);
  EXPECT_LT(l1, 0.05);
  // The full layer reaches every measured distance.
  EXPECT_GT(r.measured.back(), 0.0);
  EXPECT_GT(r.fitted_alpha, 0.0);
  EXPECT_LT(r.fitted_alpha, 1.0);
}

TEST(EmpiricalReceptiveFieldTest, RandomWeightsGiveADistributionAndItsTheory) {
  EmpiricalOptions o;  // d_model 64, 4 heads, 4 sliding layers of window 8
  const EmpiricalResult r = Measure(o);
  ASSERT_EQ(r.measured.size(), 33u);
  ExpectDistribution(r.measured);
  ASSERT_EQ(r.theory.size(), r.measured.size());
  ExpectDistribution(r.theory);
  EXPECT_GT(r.fitted_alpha, 0.0);
  EXPECT_LT(r.fitted_alpha, 1.0);
  // Sliding windows only: nothing beyond L (W - 1) = 28, and something inside.
  for (size_t d = 29; d < r.measured.size(); ++d) EXPECT_EQ(r.measured[d], 0.0) << d;
  EXPECT_GT(r.measured[28], 0.0);
  EXPECT_GE(r.first_source, int64_t{o.layers} * o.window);

  const sinkscope::v1::EmpiricalInfluence& p = r.proto;
  EXPECT_EQ(p.d_model(), 64);
  EXPECT_EQ(p.heads(), 4);
  EXPECT_EQ(p.seed(), 1u);
  EXPECT_EQ(p.pattern(), "SSSS");
  EXPECT_EQ(p.sink_tokens(), 0);
  EXPECT_EQ(p.fitted_alpha(), r.fitted_alpha);
  EXPECT_EQ(p.method(), "finite differences");
  EXPECT_EQ(p.tokens(), r.tokens);
  EXPECT_EQ(p.sources(), 16);
  EXPECT_GT(p.mean_distance(), 0.0);
  EXPECT_GT(p.reach_at_epsilon(), 0);
  EXPECT_LE(p.reach_at_epsilon(), 28);
  EXPECT_GT(p.theory_mean_distance(), 0.0);
  EXPECT_GT(p.theory_reach_at_epsilon(), 0);

  // Deterministic for a seed.
  const EmpiricalResult again = Measure(o);
  EXPECT_EQ(again.measured, r.measured);
  EXPECT_EQ(again.fitted_alpha, r.fitted_alpha);
}

TEST(EmpiricalReceptiveFieldTest, FullLayerReachesAtLeastAsFarAsSliding) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    EmpiricalOptions o;
    o.seed = seed;
    o.pattern = "S";
    const EmpiricalResult sliding = Measure(o);
    o.pattern = "SF";
    const EmpiricalResult hybrid = Measure(o);
    ExpectDistribution(hybrid.measured);
    EXPECT_GT(hybrid.fitted_alpha, 0.0);
    EXPECT_LT(hybrid.fitted_alpha, 1.0);
    EXPECT_GE(hybrid.proto.reach_at_epsilon(), sliding.proto.reach_at_epsilon()) << seed;
    EXPECT_GT(hybrid.measured.back(), 0.0) << seed;
  }
}

TEST(EmpiricalReceptiveFieldTest, SinkTokensRunAndAreReported) {
  EmpiricalOptions o;
  o.sink_tokens = 4;
  const EmpiricalResult r = Measure(o);
  EXPECT_EQ(r.proto.sink_tokens(), 4);
  ExpectDistribution(r.measured);
  EXPECT_GT(r.fitted_alpha, 0.0);
  EXPECT_LT(r.fitted_alpha, 1.0);
}

TEST(EmpiricalReceptiveFieldTest, ShortSequencesMeasureWhatFits) {
  EmpiricalOptions o;
  o.layers = 3;
  o.window = 4;
  o.tokens = 20;  // fewer than full windows + sources + distances need
  const EmpiricalResult r = Measure(o);
  EXPECT_EQ(r.tokens, 20);
  EXPECT_EQ(r.proto.tokens(), 20);
  EXPECT_EQ(r.measured.size(), 13u);
  ExpectDistribution(r.measured);
}

TEST(EmpiricalReceptiveFieldTest, BadOptionsAreErrors) {
  const auto expect_error = [](EmpiricalOptions o, const char* what) {
    absl::StatusOr<EmpiricalResult> r = MeasureEmpiricalInfluence(o);
    EXPECT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << what;
  };
  EmpiricalOptions o;
  o.window = 0;
  expect_error(o, "window 0");
  o = EmpiricalOptions();
  o.layers = 0;
  expect_error(o, "layers 0");
  o = EmpiricalOptions();
  o.d_model = 30;
  expect_error(o, "d_model 30, 4 heads");
  o = EmpiricalOptions();
  o.heads = 0;
  expect_error(o, "heads 0");
  o = EmpiricalOptions();
  o.d_model = 12;  // head_dim 3: RoPE needs it even
  expect_error(o, "odd head_dim with RoPE");
  o = EmpiricalOptions();
  o.pattern = "SX";
  expect_error(o, "pattern letter X");
  o = EmpiricalOptions();
  o.pattern = "";
  expect_error(o, "empty pattern");
  o = EmpiricalOptions();
  o.sources = 0;
  expect_error(o, "sources 0");
  o = EmpiricalOptions();
  o.tokens = 1;
  expect_error(o, "tokens 1");
  o = EmpiricalOptions();
  o.sink_tokens = -1;
  expect_error(o, "sink_tokens -1");
}

}  // namespace
}  // namespace sinkscope::analysis
