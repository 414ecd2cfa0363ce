// ErrorMetrics against values computed by hand.
#include "quant/error_metrics.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace sinkscope::quant {
namespace {

TEST(ErrorMetricsTest, HandComputedValues) {
  // ref = [3, 4], approx = [3, 3]: err = [0, 1].
  FloatMatrix ref(1, 2), approx(1, 2);
  ref << 3, 4;
  approx << 3, 3;
  absl::StatusOr<ErrorMetrics> e = ComputeErrorMetrics(ViewOf(ref), ViewOf(approx));
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->mse, 0.5);                                 // (0 + 1) / 2
  EXPECT_DOUBLE_EQ(e->sqnr_db, 10.0 * std::log10(25.0));         // 25 / 1
  EXPECT_DOUBLE_EQ(e->cosine, 21.0 / (5.0 * std::sqrt(18.0)));   // 9+12 over |ref||approx|
  EXPECT_DOUBLE_EQ(e->max_abs_error, 1.0);
  EXPECT_DOUBLE_EQ(e->rel_fro_error, 1.0 / 5.0);
  EXPECT_EQ(e->count, 2);
}

TEST(ErrorMetricsTest, ExactAndDegenerateInputs) {
  FloatMatrix ref(2, 2);
  ref << 1, -2, 0.5, 8;
  absl::StatusOr<ErrorMetrics> e = ComputeErrorMetrics(ViewOf(ref), ViewOf(ref));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->mse, 0.0);
  EXPECT_EQ(e->sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(e->cosine, 1.0);
  EXPECT_EQ(e->rel_fro_error, 0.0);

  FloatMatrix zero = FloatMatrix::Zero(2, 2);
  e = ComputeErrorMetrics(ViewOf(zero), ViewOf(zero));
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->cosine, 1.0);
  EXPECT_EQ(e->rel_fro_error, 0.0);

  // Opposite signs: cosine -1, SQNR 10 log10(1/4).
  FloatMatrix neg = -ref;
  e = ComputeErrorMetrics(ViewOf(ref), ViewOf(neg));
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->cosine, -1.0);
  EXPECT_NEAR(e->sqnr_db, 10.0 * std::log10(0.25), 1e-12);
  EXPECT_DOUBLE_EQ(e->rel_fro_error, 2.0);
}

TEST(ErrorMetricsTest, ShapeMismatchIsAnError) {
  FloatMatrix a(2, 3), b(3, 2);
  a.setZero();
  b.setZero();
  EXPECT_FALSE(ComputeErrorMetrics(ViewOf(a), ViewOf(b)).ok());
}

TEST(ErrorMetricsTest, ProtoCarriesEveryField) {
  ErrorMetrics e;
  e.mse = 1.5;
  e.sqnr_db = 20.0;
  e.cosine = 0.99;
  e.max_abs_error = 3.0;
  e.rel_fro_error = 0.1;
  e.saturations = 7;
  e.clipped = 2;
  const sinkscope::v1::QuantError p = ToProto(e, "x");
  EXPECT_EQ(p.name(), "x");
  EXPECT_EQ(p.mse(), 1.5);
  EXPECT_EQ(p.sqnr_db(), 20.0);
  EXPECT_EQ(p.cosine(), 0.99);
  EXPECT_EQ(p.max_abs_error(), 3.0);
  EXPECT_EQ(p.rel_fro_error(), 0.1);
  EXPECT_EQ(p.saturations(), 7);
  EXPECT_EQ(p.clipped(), 2);
}

}  // namespace
}  // namespace sinkscope::quant
