// MagnitudeSketch quantiles against exact sorted ranks; Summary on f32/bf16/f16 and through
// merges; outlier profiles against naive loops; the massive-activation detector and sink
// metrics on constructed inputs with known answers.
#include "analysis/tensor_summary.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "analysis/massive_activation.h"
#include "analysis/sink_metrics.h"
#include "gtest/gtest.h"

namespace sinkscope::analysis {
namespace {

using model::DType;
using model::TypedTensorView;

TypedTensorView F32View(const std::vector<float>& v, std::vector<int64_t> shape) {
  return {reinterpret_cast<const uint8_t*>(v.data()), DType::kF32, std::move(shape)};
}

std::vector<float> HeavyTailed(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> t(3.0f);
  std::vector<float> v(n);
  for (float& x : v) x = t(rng);
  return v;
}

TEST(MagnitudeSketchTest, QuantilesWithinRelativeAccuracy) {
  const std::vector<float> v = HeavyTailed(100000, 1);
  std::vector<double> mags(v.size());
  for (size_t i = 0; i < v.size(); ++i) mags[i] = std::fabs(v[i]);
  std::sort(mags.begin(), mags.end());
  for (double alpha : {0.01, 0.005}) {
    MagnitudeSketch s(alpha);
    s.AddBatch(v.data(), v.size());
    for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
      const double exact = mags[static_cast<size_t>(std::floor(q * (mags.size() - 1)))];
      EXPECT_NEAR(s.Quantile(q), exact, alpha * exact * 1.0001) << "q=" << q;
    }
  }
}

TEST(MagnitudeSketchTest, MergeIsExactAndZerosAndNonFiniteAreCounted) {
  std::vector<float> v = HeavyTailed(5000, 2);
  v[3] = 0.0f;
  v[4] = NAN;
  v[5] = INFINITY;
  MagnitudeSketch whole, a, b;
  whole.AddBatch(v.data(), v.size());
  a.AddBatch(v.data(), 1234);
  b.AddBatch(v.data() + 1234, v.size() - 1234);
  ASSERT_TRUE(b.Merge(*MagnitudeSketch::FromProto(a.ToProto())).ok());
  EXPECT_EQ(b.ToProto().SerializeAsString(), whole.ToProto().SerializeAsString());
  EXPECT_EQ(whole.count(), 4998);
  EXPECT_EQ(whole.nonfinite_count(), 2);
  EXPECT_EQ(whole.Quantile(0.0), 0.0);
  MagnitudeSketch other(0.01);
  EXPECT_FALSE(other.Merge(whole).ok());
}

// Bucket placement is exact against the boundaries B(i) = gamma^i: the float table, the double
// path and AddCounts agree, including on the floats adjacent to a boundary.
TEST(MagnitudeSketchTest, BucketsAreExactAgainstTheBoundaries) {
  for (double alpha : {0.005, 0.01, 0.05, 0.001}) {
    SCOPED_TRACE(alpha);
    const double gamma = (1 + alpha) / (1 - alpha);
    MagnitudeSketch ref(alpha);
    const auto bucket_of_float = [&](float v) {
      MagnitudeSketch s(alpha);
      s.AddBatch(&v, 1);
      return s.ToProto().min_index();
    };
    std::vector<float> values;
    std::mt19937 rng(9);
    std::uniform_real_distribution<double> exponent(-60.0, 60.0);
    for (int k = 0; k < 3000; ++k) values.push_back(static_cast<float>(std::exp(exponent(rng))));
    for (int i = -6000; i <= 6000; i += 37) {
      const double b = std::pow(gamma, i);
      const float f = static_cast<float>(b);
      for (float v : {std::nextafter(f, 0.0f), f, std::nextafter(f, INFINITY)}) {
        if (v >= 1e-30f && std::isfinite(v)) values.push_back(v);
      }
    }
    for (float v : values) {
      const int i = bucket_of_float(v);
      // Oracle: the definition, with boundaries computed here.
      ASSERT_GT(static_cast<double>(v), std::pow(gamma, i - 1)) << v;
      ASSERT_LE(static_cast<double>(v), std::pow(gamma, i)) << v;
      MagnitudeSketch d(alpha);
      d.Add(-static_cast<double>(v));
      ASSERT_EQ(d.ToProto().min_index(), i) << v;
    }
    // AddCounts equals AddBatch of the expanded values.
    std::vector<uint64_t> counts(values.size());
    std::vector<float> expanded;
    for (size_t j = 0; j < values.size(); ++j) {
      counts[j] = j % 4;
      for (uint64_t c = 0; c < counts[j]; ++c) expanded.push_back(j % 2 ? -values[j] : values[j]);
    }
    std::vector<float> signed_values = values;
    for (size_t j = 0; j < values.size(); ++j) signed_values[j] = j % 2 ? -values[j] : values[j];
    MagnitudeSketch a(alpha), b(alpha);
    a.AddBatch(expanded.data(), expanded.size());
    b.AddCounts(signed_values.data(), counts.data(), counts.size());
    EXPECT_EQ(a.ToProto().SerializeAsString(), b.ToProto().SerializeAsString());
  }
}

// The histogram form of the Summary (the weight scan's bf16 path) against the element form.
TEST(SummaryTest, AddCountsMatchesTheExpandedValues) {
  std::vector<float> values = HeavyTailed(3000, 12);
  values[5] = NAN;
  values[6] = -INFINITY;
  values[7] = 0.0f;
  values[8] = 9.0f;
  std::vector<uint64_t> counts(values.size());
  std::vector<float> expanded;
  for (size_t j = 0; j < values.size(); ++j) {
    counts[j] = (j * 7) % 5;
    for (uint64_t c = 0; c < counts[j]; ++c) expanded.push_back(values[j]);
  }
  SummaryBuilder a, b;
  a.Add(expanded.data(), expanded.size());
  b.AddCounts(values.data(), counts.data(), counts.size());
  const sinkscope::v1::Summary sa = a.ToProto(), sb = b.ToProto();
  EXPECT_EQ(sb.count(), sa.count());
  EXPECT_EQ(sb.nonfinite_count(), sa.nonfinite_count());
  EXPECT_EQ(sb.llm_int8_count(), sa.llm_int8_count());
  EXPECT_EQ(sb.abs_max(), sa.abs_max());
  EXPECT_EQ(sb.min(), sa.min());
  EXPECT_EQ(sb.sketch().SerializeAsString(), sa.sketch().SerializeAsString());
  EXPECT_NEAR(sb.mean(), sa.mean(), 1e-13);
  EXPECT_NEAR(sb.std(), sa.std(), 1e-12 * sa.std());
  EXPECT_NEAR(sb.skewness(), sa.skewness(), 1e-10 * std::fabs(sa.skewness()) + 1e-12);
  EXPECT_NEAR(sb.kurtosis(), sa.kurtosis(), 1e-10 * sa.kurtosis());
}

TEST(SummaryTest, Float16AndBfloat16MatchTheirFloatValues) {
  const std::vector<float> f = HeavyTailed(20000, 3);
  std::vector<uint16_t> bf(f.size()), hf(f.size());
  std::vector<float> bf_as_f(f.size()), hf_as_f(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    bf[i] = model::FloatToBf16(f[i]);
    hf[i] = model::FloatToHalf(f[i]);
    bf_as_f[i] = model::Bf16ToFloat(bf[i]);
    hf_as_f[i] = model::HalfToFloat(hf[i]);
  }
  const auto check = [](const sinkscope::v1::Summary& got, const sinkscope::v1::Summary& want) {
    EXPECT_EQ(got.count(), want.count());
    EXPECT_DOUBLE_EQ(got.mean(), want.mean());
    EXPECT_DOUBLE_EQ(got.std(), want.std());
    EXPECT_DOUBLE_EQ(got.kurtosis(), want.kurtosis());
    EXPECT_EQ(got.abs_max(), want.abs_max());
    EXPECT_EQ(got.median_abs(), want.median_abs());
    EXPECT_EQ(got.llm_int8_count(), want.llm_int8_count());
  };
  check(Summarize({reinterpret_cast<const uint8_t*>(bf.data()), DType::kBF16, {200, 100}}),
        Summarize(F32View(bf_as_f, {200, 100})));
  check(Summarize({reinterpret_cast<const uint8_t*>(hf.data()), DType::kF16, {20000}}),
        Summarize(F32View(hf_as_f, {20000})));
}

TEST(SummaryTest, CountsAgainstDirectLoopsAndMergeEqualsWhole) {
  std::vector<float> v = HeavyTailed(30000, 4);
  v[10] = 500.0f;
  v[11] = NAN;
  const sinkscope::v1::Summary s = Summarize(F32View(v, {30000}));
  int64_t int8 = 0, finite = 0;
  double sum = 0;
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    ++finite;
    sum += x;
    int8 += std::fabs(x) >= 6.0f;
  }
  EXPECT_EQ(s.count(), finite);
  EXPECT_EQ(s.nonfinite_count(), 1);
  EXPECT_EQ(s.llm_int8_count(), int8);
  EXPECT_NEAR(s.mean(), sum / finite, 1e-12);
  EXPECT_EQ(s.abs_max(), 500.0);
  EXPECT_NEAR(s.abs_max_over_median(), 500.0 / s.median_abs(), 1e-9);
  // count_above_k_sigma against the direct count of |x| > |mean| + k std, to within the
  // boundary bucket's population.
  const double thr = std::fabs(s.mean()) + 6.0 * s.std();
  int64_t direct = 0, near = 0;
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    direct += std::fabs(x) > thr;
    near += std::fabs(std::fabs(x) - thr) <= 0.011 * thr;
  }
  EXPECT_LE(std::abs(s.count_above_k_sigma() - direct), near);
  // Shards.
  SummaryBuilder a, b;
  a.Add(v.data(), 9999);
  b.Add(v.data() + 9999, v.size() - 9999);
  absl::StatusOr<SummaryBuilder> a2 = SummaryBuilder::FromProto(a.ToProto());
  ASSERT_TRUE(a2.ok()) << a2.status();
  ASSERT_TRUE(a2->Merge(b).ok());
  const sinkscope::v1::Summary m = a2->ToProto();
  EXPECT_EQ(m.count(), s.count());
  EXPECT_EQ(m.median_abs(), s.median_abs());
  EXPECT_EQ(m.p9999_abs(), s.p9999_abs());
  EXPECT_EQ(m.llm_int8_count(), s.llm_int8_count());
  EXPECT_EQ(m.count_above_k_sigma(), s.count_above_k_sigma());
  EXPECT_NEAR(m.kurtosis(), s.kurtosis(), 1e-9 * s.kurtosis());
}

TEST(OutlierProfileTest, MatchesNaiveLoops) {
  const int tokens = 37, channels = 53;
  std::vector<float> v = HeavyTailed(tokens * channels, 5);
  v[0 * channels + 7] = 300.0f;   // token 0, channel 7
  v[5 * channels + 7] = -250.0f;  // token 5, channel 7
  v[9 * channels + 40] = 120.0f;
  const sinkscope::v1::OutlierProfile p = ProfileOutliers(F32View(v, {tokens, channels}), 3);
  ASSERT_EQ(p.channel_abs_max_size(), channels);
  ASSERT_EQ(p.token_abs_max_size(), tokens);
  for (int c = 0; c < channels; ++c) {
    double m = 0;
    for (int t = 0; t < tokens; ++t) m = std::max(m, std::fabs((double)v[t * channels + c]));
    ASSERT_EQ(p.channel_abs_max(c), m);
  }
  ASSERT_EQ(p.top_channels_size(), 3);
  EXPECT_EQ(p.top_channels(0).index(), 7);
  EXPECT_EQ(p.top_channels(1).index(), 40);
  double sq = 0;
  for (int t = 0; t < tokens; ++t) sq += (double)v[t * channels + 7] * v[t * channels + 7];
  EXPECT_NEAR(p.top_channels(0).rms(), std::sqrt(sq / tokens), 1e-9);
  EXPECT_EQ(p.top_tokens(0).index(), 0);
  EXPECT_EQ(p.top_tokens(1).index(), 5);
  ASSERT_EQ(p.top_entries_size(), 3);
  EXPECT_EQ(p.top_entries(0).token(), 0);
  EXPECT_EQ(p.top_entries(0).channel(), 7);
  EXPECT_EQ(p.top_entries(0).value(), 300.0);
  EXPECT_EQ(p.top_entries(1).value(), -250.0);
  EXPECT_EQ(p.top_entries(2).token(), 9);
}

TEST(MassiveActivationTest, FindsExactlyTheConstructedHits) {
  // 64 tokens x 128 channels of magnitude ~1: median |h| is known exactly.
  const int tokens = 64, channels = 128;
  std::vector<float> h(tokens * channels);
  for (int i = 0; i < tokens * channels; ++i) h[i] = (i % 2 ? 1.0f : -1.0f) * (0.5f + (i % 5) * 0.25f);
  h[0 * channels + 3] = 2000.0f;   // ratio 2000 / median: massive
  h[0 * channels + 99] = -1500.0f; // massive
  h[7 * channels + 3] = 150.0f;    // > 100 but ratio < 1000: not massive
  std::vector<float> mags(h.size());
  for (size_t i = 0; i < h.size(); ++i) mags[i] = std::fabs(h[i]);
  std::sort(mags.begin(), mags.end());
  const double median = 0.5 * (mags[mags.size() / 2 - 1] + mags[mags.size() / 2]);
  MassiveActivationResult r = DetectMassiveActivations(F32View(h, {tokens, channels}), 4);
  EXPECT_DOUBLE_EQ(r.median_abs, median);
  ASSERT_EQ(r.total_hits, 2);
  EXPECT_EQ(r.hits[0].channel(), 3);
  EXPECT_EQ(r.hits[0].token(), 0);
  EXPECT_EQ(r.hits[0].layer(), 4);
  EXPECT_DOUBLE_EQ(r.hits[0].ratio(), 2000.0 / median);
  EXPECT_EQ(r.hits[1].channel(), 99);
  EXPECT_EQ(r.hits[1].value(), -1500.0);
  // Lower ratio threshold: the 150 entry joins; higher absolute threshold: only 2000 stays.
  MassiveActivationOptions o;
  o.ratio_threshold = 100;
  EXPECT_EQ(DetectMassiveActivations(F32View(h, {tokens, channels}), 0, o).total_hits, 3);
  o.ratio_threshold = 1000;
  o.abs_threshold = 1600;
  EXPECT_EQ(DetectMassiveActivations(F32View(h, {tokens, channels}), 0, o).total_hits, 1);
}

TEST(SinkMetricsTest, KnownAttentionPatterns) {
  // T = 4, causal. Head A puts 0.7 on key 0 for every query (rest spread); head B is uniform.
  const int T = 4;
  std::vector<float> a(T * T, 0.0f), u(T * T, 0.0f);
  for (int t = 0; t < T; ++t) {
    for (int k = 0; k <= t; ++k) u[t * T + k] = 1.0f / (t + 1);
    a[t * T + 0] = t == 0 ? 1.0f : 0.7f;
    for (int k = 1; k <= t; ++k) a[t * T + k] = 0.3f / t;
  }
  const sinkscope::v1::HeadSink sa = MeasureHeadSink({a.data(), T, T, nullptr}, 0, 0);
  const sinkscope::v1::HeadSink su = MeasureHeadSink({u.data(), T, T, nullptr}, 0, 1);
  EXPECT_NEAR(sa.first_token_mass(), (1.0 + 3 * 0.7) / 4, 1e-7);
  // Uniform causal: alpha_1 = (1 + 1/2 + 1/3 + 1/4) / 4; alpha_4 = 1/4 (only query 3).
  EXPECT_NEAR(su.first_token_mass(), (1 + 0.5 + 1.0 / 3 + 0.25) / 4, 1e-7);
  ASSERT_EQ(su.alpha_size(), 4);
  EXPECT_NEAR(su.alpha(3), 0.25, 1e-7);
  EXPECT_NEAR(su.alpha(1), (0.5 + 1.0 / 3 + 0.25) / 3, 1e-7);
  EXPECT_TRUE(sa.is_sink());
  EXPECT_TRUE(su.is_sink());  // 0.52 > 0.3
  EXPECT_DOUBLE_EQ(SinkRate({sa, su}, 0.3), 100.0);
  EXPECT_DOUBLE_EQ(SinkRate({sa, su}, 0.6), 50.0);
  EXPECT_DOUBLE_EQ(SinkRate({}, 0.3), 0.0);
  // A sink-logit slot absorbing 0.2, 0.4, 0.6, 0.8: mean 0.5.
  std::vector<float> slot = {0.2f, 0.4f, 0.6f, 0.8f};
  EXPECT_NEAR(MeasureHeadSink({u.data(), T, T, slot.data()}, 0, 1).sink_slot_mass(), 0.5, 1e-7);
  // Queries that are the last 2 of 4 positions (keys = 4, queries = 2): key 3 seen by 1 query.
  std::vector<float> last(2 * T, 0.25f);
  std::vector<double> alpha = AlphaK({last.data(), 2, T, nullptr}, 4);
  ASSERT_EQ(alpha.size(), 4u);
  EXPECT_NEAR(alpha[0], 0.25, 1e-7);
  EXPECT_NEAR(alpha[3], 0.25, 1e-7);
  // Sigmoid attention: rows that do not sum to 1 count as shares of their sums. Query t weighs
  // key 0 with 0.5 and each other visible key with 0.25: share 0.5 / (0.5 + 0.25 t).
  std::vector<float> sig(T * T, 0.0f);
  for (int t = 0; t < T; ++t) {
    sig[t * T] = 0.5f;
    for (int k = 1; k <= t; ++k) sig[t * T + k] = 0.25f;
  }
  HeadProbabilities raw{sig.data(), T, T, nullptr};
  HeadProbabilities shares = raw;
  shares.normalize_rows = true;
  EXPECT_NEAR(MeasureHeadSink(raw, 0, 0).first_token_mass(), 0.5, 1e-7);
  const sinkscope::v1::HeadSink ss = MeasureHeadSink(shares, 0, 0);
  EXPECT_NEAR(ss.first_token_mass(), (1.0 + 0.5 / 0.75 + 0.5 / 1.0 + 0.5 / 1.25) / 4, 1e-7);
  ASSERT_EQ(ss.alpha_size(), 4);
  EXPECT_NEAR(ss.alpha(3), 0.25 / 1.25, 1e-7);  // only query 3 sees key 3
  std::vector<float> zeros(T * T, 0.0f);  // an all-zero row counts as no attention, not NaN
  HeadProbabilities none{zeros.data(), T, T, nullptr};
  none.normalize_rows = true;
  EXPECT_EQ(MeasureHeadSink(none, 0, 0).first_token_mass(), 0.0);
}

}  // namespace
}  // namespace sinkscope::analysis
