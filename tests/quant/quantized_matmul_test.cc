// QuantizedMatmul: the int8 result equals the product of the dequantized operands (an
// independent double-precision oracle), and the oneDNN path equals the integer oracle.
#include "quant/quantized_matmul.h"

#include <random>

#include "gtest/gtest.h"
#include "quant/quantize.h"

namespace sinkscope::quant {
namespace {

FloatMatrix Random(int64_t r, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  FloatMatrix m(r, c);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = d(rng);
  return m;
}

struct MatmulCase {
  const char* name;
  QuantScheme a, b;
};

TEST(QuantizedMatmulTest, EqualsProductOfDequantizedOperands) {
  const FloatMatrix a = Random(37, 96, 1);
  FloatMatrix b = Random(96, 29, 2);
  b(3, 4) = 40.0f;  // an outlier weight
  const std::vector<MatmulCase> cases = {
      {"per-tensor x per-tensor", QuantScheme{}, QuantScheme{}},
      {"per-token asym x per-channel", QuantScheme::PerToken().Asymmetric(),
       QuantScheme::PerChannel(1)},
      {"per-token x per-group(32) 4-bit", QuantScheme::PerToken(),
       QuantScheme::PerGroup(0, 32).WithBits(4)},
      {"per-group(32) asym x per-group(32) asym", QuantScheme::PerGroup(1, 32).Asymmetric(),
       QuantScheme::PerGroup(0, 32).Asymmetric()},
      {"per-tensor mse x per-channel p99.9", QuantScheme{}.WithMseClip(),
       QuantScheme::PerChannel(1).WithPercentile(99.9)},
      {"ragged groups g=40", QuantScheme::PerGroup(1, 40), QuantScheme::PerGroup(0, 40)},
  };
  for (const MatmulCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<QuantizedMatmulResult> r = QuantizedMatmul(a, b, c.a, c.b);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->bit_exact);
    // Oracle: dequantize both operands, multiply in double.
    absl::StatusOr<QuantizedTensor> qa = Quantize(ViewOf(a), c.a, "A");
    absl::StatusOr<QuantizedTensor> qb = Quantize(ViewOf(b), c.b, "B");
    ASSERT_TRUE(qa.ok() && qb.ok());
    const DoubleMatrix expect =
        DequantizeMatrix(*qa).cast<double>() * DequantizeMatrix(*qb).cast<double>();
    const double max_diff = (r->oracle.cast<double>() - expect).cwiseAbs().maxCoeff();
    EXPECT_LT(max_diff, 1e-4 * (1.0 + expect.cwiseAbs().maxCoeff())) << max_diff;
    // And the error metrics are those of oracle vs the fp32 product.
    const DoubleMatrix fp = a.cast<double>() * b.cast<double>();
    const double mse = (r->oracle.cast<double>() - fp).squaredNorm() / fp.size();
    EXPECT_NEAR(r->oracle_error.mse, mse, mse * 1e-3 + 1e-12);
    EXPECT_GT(r->onednn_error.sqnr_db, 10.0);
  }
}

TEST(QuantizedMatmulTest, EightBitsBeatFourBits) {
  const FloatMatrix a = Random(16, 64, 3), b = Random(64, 16, 4);
  absl::StatusOr<QuantizedMatmulResult> r8 =
      QuantizedMatmul(a, b, QuantScheme{}, QuantScheme::PerChannel(1));
  absl::StatusOr<QuantizedMatmulResult> r4 =
      QuantizedMatmul(a, b, QuantScheme{}.WithBits(4), QuantScheme::PerChannel(1).WithBits(4));
  ASSERT_TRUE(r8.ok() && r4.ok());
  // Each bit is worth about 6 dB; 4 bits fewer should cost well over 15 dB.
  EXPECT_GT(r8->onednn_error.sqnr_db, r4->onednn_error.sqnr_db + 15.0);
}

TEST(QuantizedMatmulTest, SchemesThatDoNotFitAGemmAreErrors) {
  const FloatMatrix a = Random(8, 16, 5), b = Random(16, 8, 6);
  EXPECT_FALSE(QuantizedMatmul(a, b, QuantScheme::PerChannel(1), QuantScheme{}).ok());
  EXPECT_FALSE(QuantizedMatmul(a, b, QuantScheme{}, QuantScheme::PerChannel(0)).ok());
  EXPECT_FALSE(QuantizedMatmul(a, b, QuantScheme::PerGroup(1, 4), QuantScheme::PerGroup(0, 8)).ok());
  EXPECT_FALSE(QuantizedMatmul(a, Random(15, 8, 7), QuantScheme{}, QuantScheme{}).ok());
  FloatMatrix bad = a;
  bad(1, 1) = NAN;
  absl::StatusOr<QuantizedMatmulResult> r = QuantizedMatmul(bad, b, QuantScheme{}, QuantScheme{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'A'"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace sinkscope::quant
