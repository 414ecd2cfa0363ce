// RunningStats against closed forms and a two-pass reference; merging shards equals the whole.
#include "analysis/running_stats.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::analysis {
namespace {

struct TwoPass {
  double mean = 0, var = 0, skew = 0, kurt = 0;
};

// Reference: mean first, then central moments, long double.
TwoPass Reference(const std::vector<double>& x) {
  long double s = 0;
  for (double v : x) s += v;
  const long double mean = s / x.size();
  long double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const long double d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const long double n = x.size();
  TwoPass r;
  r.mean = static_cast<double>(mean);
  r.var = static_cast<double>(m2 / n);
  r.skew = static_cast<double>(std::sqrt(n) * m3 / std::pow(m2, 1.5L));
  r.kurt = static_cast<double>(n * m4 / (m2 * m2));
  return r;
}

TEST(RunningStatsTest, ClosedFormOfConsecutiveIntegers) {
  // 1..n: mean (n+1)/2, variance (n^2-1)/12, skewness 0, kurtosis 3(3n^2-7)/(5(n^2-1)).
  const int n = 10001;
  RunningStats s;
  for (int i = 1; i <= n; ++i) s.Add(i);
  const double nd = n;
  EXPECT_DOUBLE_EQ(s.mean(), (nd + 1) / 2);
  EXPECT_NEAR(s.variance(), (nd * nd - 1) / 12, 1e-6);
  EXPECT_NEAR(s.skewness(), 0.0, 1e-9);
  EXPECT_NEAR(s.kurtosis(), 3 * (3 * nd * nd - 7) / (5 * (nd * nd - 1)), 1e-9);
  EXPECT_EQ(s.min(), 1);
  EXPECT_EQ(s.max(), n);
  EXPECT_EQ(s.abs_max(), n);
  EXPECT_EQ(s.count(), n);
}

TEST(RunningStatsTest, NormalSampleHasKurtosisThree) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> d(2.0, 0.5);
  RunningStats s;
  for (int i = 0; i < 400000; ++i) s.Add(d(rng));
  EXPECT_NEAR(s.mean(), 2.0, 0.005);
  EXPECT_NEAR(s.std(), 0.5, 0.005);
  EXPECT_NEAR(s.skewness(), 0.0, 0.02);
  EXPECT_NEAR(s.kurtosis(), 3.0, 0.05);
}

TEST(RunningStatsTest, MatchesTwoPassOnHeavyTails) {
  std::mt19937_64 rng(4);
  std::exponential_distribution<double> e(1.0);
  std::vector<double> x(50000);
  for (double& v : x) v = std::pow(e(rng), 3.0) - 1.0;  // skewed, heavy right tail
  RunningStats s;
  s.AddBatch(x.data(), x.size());
  const TwoPass r = Reference(x);
  EXPECT_NEAR(s.mean(), r.mean, 1e-12 * std::fabs(r.mean) + 1e-12);
  EXPECT_NEAR(s.variance(), r.var, 1e-10 * r.var);
  EXPECT_NEAR(s.skewness(), r.skew, 1e-9 * std::fabs(r.skew));
  EXPECT_NEAR(s.kurtosis(), r.kurt, 1e-9 * r.kurt);
}

TEST(RunningStatsTest, CatastrophicCancellationInput) {
  // 1e9 + noise of 1e-3: a naive sum of squares loses every digit of the variance.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1e-3, 1e-3);
  std::vector<double> x(100000);
  for (double& v : x) v = 1e9 + u(rng);
  RunningStats s;
  s.AddBatch(x.data(), x.size());
  const TwoPass r = Reference(x);
  EXPECT_NEAR(s.variance(), r.var, 1e-6 * r.var);
  EXPECT_NEAR(s.variance(), 1e-6 / 3.0, 0.02e-6);  // uniform(-a, a): a^2 / 3
  EXPECT_NEAR(s.kurtosis(), 1.8, 0.02);              // uniform: 9/5
}

TEST(RunningStatsTest, ShardMergeEqualsWhole) {
  std::mt19937_64 rng(6);
  std::lognormal_distribution<double> d(0.0, 1.5);
  std::vector<double> x(30001);
  for (double& v : x) v = d(rng) * (rng() % 2 ? 1 : -1) + 3.0;
  RunningStats whole;
  whole.AddBatch(x.data(), x.size());
  // Uneven shards, merged in a tree, one through the proto.
  RunningStats a, b, c;
  a.AddBatch(x.data(), 7);
  b.AddBatch(x.data() + 7, 20000);
  c.AddBatch(x.data() + 20007, x.size() - 20007);
  b.Merge(RunningStats::FromProto(c.ToProto()));
  a.Merge(b);
  EXPECT_EQ(a.count(), whole.count());
  EXPECT_NEAR(a.mean(), whole.mean(), 1e-12 * std::fabs(whole.mean()));
  EXPECT_NEAR(a.variance(), whole.variance(), 1e-11 * whole.variance());
  EXPECT_NEAR(a.skewness(), whole.skewness(), 1e-9 * std::fabs(whole.skewness()));
  EXPECT_NEAR(a.kurtosis(), whole.kurtosis(), 1e-9 * whole.kurtosis());
  EXPECT_EQ(a.min(), whole.min());
  EXPECT_EQ(a.max(), whole.max());
  // Merging into or from an empty accumulator is the identity.
  RunningStats empty;
  empty.Merge(whole);
  EXPECT_EQ(empty.kurtosis(), whole.kurtosis());
  whole.Merge(RunningStats());
  EXPECT_EQ(empty.variance(), whole.variance());
}

TEST(RunningStatsTest, ConstantInputHasZeroVarianceAndNoNan) {
  RunningStats s;
  for (int i = 0; i < 100; ++i) s.Add(-4.0);
  EXPECT_EQ(s.variance(), 0.0);
  EXPECT_EQ(s.skewness(), 0.0);
  EXPECT_EQ(s.kurtosis(), 0.0);
  EXPECT_EQ(s.abs_max(), 4.0);
}

}  // namespace
}  // namespace sinkscope::analysis
