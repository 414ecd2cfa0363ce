// quant::Sgemm against the oracle, a naive double-precision loop, on every backend over one table
// of shapes (one row, odd sizes, empty depth, transposed and plain B), to the rounding bound of
// fp32 summation in any order: |C - C_exact| <= 2 K u sum_k |A_ik B_kj| (u = 2^-24). Also: the
// rule's backend is the one that runs (and the intended one for the model's shapes), forcing
// (ForceSgemmBackend, SINKSCOPE_SGEMM), strided output, aliasing, thread control.
#include "quant/sgemm.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::quant {
namespace {

struct Case {
  int64_t m, n, k;
  bool transpose_b;
};

const std::vector<Case>& Cases() {
  static const auto* c = new std::vector<Case>{
      {1, 1, 1, true},     {1, 1, 1, false},     {1, 7, 13, true},     {1, 7, 13, false},
      {1, 896, 896, true}, {1, 300, 97, false},  {3, 5, 7, true},      {3, 5, 7, false},
      {17, 33, 65, true},  {17, 33, 65, false},  {64, 64, 64, true},   {4, 5, 0, true},
      {4, 5, 0, false},    {0, 5, 3, true},      {6, 0, 3, false},     {129, 257, 300, true},
      {129, 257, 300, false}, {513, 130, 97, true}, {300, 64, 511, false}, {1000, 37, 64, true},
  };
  return *c;
}

FloatMatrix Random(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(rows, cols);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

std::string Describe(const Case& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) +
         (c.transpose_b ? " B^T" : " B");
}

// Every element of `got` within the summation bound of the double-precision product.
void ExpectNearExact(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
                     const FloatMatrix& got, const std::string& what) {
  const int64_t m = a.rows(), k = a.cols(), n = transpose_b ? b.rows() : b.cols();
  ASSERT_EQ(got.rows(), m) << what;
  ASSERT_EQ(got.cols(), n) << what;
  const double u = std::ldexp(1.0, -24);
  int64_t bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double prod = static_cast<double>(a(i, p)) *
                            static_cast<double>(transpose_b ? b(j, p) : b(p, j));
        exact += prod;
        magnitude += std::fabs(prod);
      }
      const double bound = 2.0 * static_cast<double>(k) * u * magnitude;
      if (!(std::fabs(got(i, j) - exact) <= bound) && ++bad <= 3) {
        ADD_FAILURE() << what << ": C(" << i << ", " << j << ") = " << got(i, j) << ", exact "
                      << exact << ", bound " << bound;
      }
    }
  }
  EXPECT_EQ(bad, 0) << what;
}

// Runs each test on the rule, then restores the forcing the environment set.
class SgemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    initial_ = ForcedSgemmBackend();
    ForceSgemmBackend(std::nullopt);
  }
  void TearDown() override { ForceSgemmBackend(initial_); }

 private:
  std::optional<SgemmBackend> initial_;
};

TEST_F(SgemmTest, EveryBackendMatchesTheDoubleLoop) {
  uint32_t seed = 1;
  for (const Case& c : Cases()) {
    const FloatMatrix a = Random(c.m, c.k, seed++);
    const FloatMatrix b = c.transpose_b ? Random(c.n, c.k, seed++) : Random(c.k, c.n, seed++);
    for (SgemmBackend backend :
         {SgemmBackend::kEigen, SgemmBackend::kOnednn, SgemmBackend::kOpenblas}) {
      FloatMatrix got = FloatMatrix::Constant(2, 2, NAN);  // resized by the call
      SgemmWith(backend, a, b, c.transpose_b, &got);
      EXPECT_STREQ(SgemmBackendName(), SgemmBackendName(backend));
      ExpectNearExact(a, b, c.transpose_b, got,
                      Describe(c) + " on " + SgemmBackendName(backend));
    }
  }
}

TEST_F(SgemmTest, SgemmRunsTheRulesBackend) {
  uint32_t seed = 100;
  for (const Case& c : Cases()) {
    const FloatMatrix a = Random(c.m, c.k, seed++);
    const FloatMatrix b = c.transpose_b ? Random(c.n, c.k, seed++) : Random(c.k, c.n, seed++);
    const FloatMatrix got = Sgemm(a, b, c.transpose_b);
    EXPECT_STREQ(SgemmBackendName(), SgemmBackendName(RuleSgemmBackend(c.m, c.n, c.k)))
        << Describe(c);
    ExpectNearExact(a, b, c.transpose_b, got, Describe(c) + " (rule)");
  }
}

// The rule documented in sgemm.h, on the products of a Qwen2.5-0.5B forward pass on 512 tokens
// and on one token, the attention blocks, and a tiny product.
TEST_F(SgemmTest, RulePicksTheMeasuredBackend) {
  EXPECT_EQ(RuleSgemmBackend(512, 896, 896), SgemmBackend::kOpenblas);
  EXPECT_EQ(RuleSgemmBackend(512, 4864, 896), SgemmBackend::kOpenblas);
  EXPECT_EQ(RuleSgemmBackend(512, 896, 4864), SgemmBackend::kOpenblas);
  EXPECT_EQ(RuleSgemmBackend(2044, 512, 64), SgemmBackend::kOpenblas);
  EXPECT_EQ(RuleSgemmBackend(1, 4864, 896), SgemmBackend::kOpenblas);
  EXPECT_EQ(RuleSgemmBackend(8, 16, 16), SgemmBackend::kOpenblas);
}

TEST_F(SgemmTest, ForcedEigenIsEigenBitForBit) {
  const FloatMatrix a = Random(37, 91, 7), b = Random(53, 91, 8);
  ForceSgemmBackend(SgemmBackend::kEigen);
  EXPECT_EQ(ChooseSgemmBackend(512, 896, 896), SgemmBackend::kEigen);
  const FloatMatrix got = Sgemm(a, b, true);
  EXPECT_STREQ(SgemmBackendName(), "eigen");
  const FloatMatrix eigen = a * b.transpose();
  EXPECT_TRUE(got == eigen);
  ForceSgemmBackend(std::nullopt);
  EXPECT_EQ(ChooseSgemmBackend(512, 896, 896), RuleSgemmBackend(512, 896, 896));
}

// tests/quant/BUILD runs this test with SINKSCOPE_SGEMM unset, =eigen and =onednn.
TEST(SgemmEnvironmentTest, EnvironmentForcesTheBackend) {
  const char* env = std::getenv("SINKSCOPE_SGEMM");
  const std::optional<SgemmBackend> forced = ForcedSgemmBackend();
  if (env == nullptr || std::string(env) == "auto") {
    EXPECT_FALSE(forced.has_value());
    return;
  }
  ASSERT_TRUE(forced.has_value()) << env;
  EXPECT_STREQ(SgemmBackendName(*forced), env);
  const FloatMatrix a = Random(64, 80, 9), b = Random(80, 72, 10);
  const FloatMatrix got = Sgemm(a, b, false);
  EXPECT_STREQ(SgemmBackendName(), env);
  ExpectNearExact(a, b, false, got, std::string("forced ") + env);
}

TEST_F(SgemmTest, StridedOutputFillsAColumnBlock) {
  const FloatMatrix a = Random(9, 40, 11), b = Random(13, 40, 12);
  for (SgemmBackend backend :
       {SgemmBackend::kEigen, SgemmBackend::kOnednn, SgemmBackend::kOpenblas}) {
    ForceSgemmBackend(backend);
    FloatMatrix big = FloatMatrix::Constant(9, 30, -7.0f);
    SgemmStrided(a, b, true, big.data() + 5, big.cols());
    EXPECT_STREQ(SgemmBackendName(), SgemmBackendName(backend));
    ExpectNearExact(a, b, true, big.middleCols(5, 13), "strided");
    EXPECT_TRUE((big.leftCols(5).array() == -7.0f).all());
    EXPECT_TRUE((big.rightCols(12).array() == -7.0f).all());
  }
}

TEST_F(SgemmTest, AliasedOutputGoesThroughATemporary) {
  FloatMatrix a = Random(20, 20, 13);
  const FloatMatrix b = Random(20, 20, 14);
  const FloatMatrix expected = Sgemm(a, b, false);
  Sgemm(a, b, false, &a);
  EXPECT_TRUE(a == expected);
}

TEST_F(SgemmTest, ThreadsAreSet) {
  SetSgemmThreads(1);
  EXPECT_EQ(SgemmThreads(), 1);
  const FloatMatrix a = Random(300, 200, 15), b = Random(250, 200, 16);
  const FloatMatrix one = Sgemm(a, b, true);
  SetSgemmThreads(2);
  EXPECT_EQ(SgemmThreads(), 2);
  ExpectNearExact(a, b, true, Sgemm(a, b, true), "2 threads");
  SetSgemmThreads(0);  // all cores
  EXPECT_GE(SgemmThreads(), 1);
  EXPECT_NE(SgemmDescription().find("openblas"), std::string::npos);
  (void)one;
}

}  // namespace
}  // namespace sinkscope::quant
