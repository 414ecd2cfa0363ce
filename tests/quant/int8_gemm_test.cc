// Parity of Int8Gemm (oneDNN) with ReferenceInt8Gemm (the oracle), bit for bit, over a table of
// shapes and parameters with full-range operands; and the oracle itself against int64 loops.
#include "quant/int8_gemm.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "quant/reference_int8_gemm.h"

namespace sinkscope::quant {
namespace {

struct OwnedOperand {
  std::vector<uint8_t> bytes;
  GemmOperand op;
};

// Full-range codes: u8 in [0, 255], s8 in [-128, 127]; parameters per row/column or shared.
OwnedOperand RandomOperand(int64_t rows, int64_t cols, Int8Type type, int64_t param_count,
                           bool zero_points, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  OwnedOperand o;
  o.bytes.resize(rows * cols);
  for (uint8_t& b : o.bytes) b = static_cast<uint8_t>(byte(rng));
  o.op.matrix = Int8MatrixView{o.bytes.data(), type, rows, cols};
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  std::uniform_int_distribution<int> zp(type == Int8Type::kU8 ? 0 : -128,
                                        type == Int8Type::kU8 ? 255 : 127);
  o.op.quant.scales.resize(param_count);
  o.op.quant.zero_points.resize(param_count);
  for (int64_t i = 0; i < param_count; ++i) {
    o.op.quant.scales[i] = scale(rng);
    o.op.quant.zero_points[i] = zero_points ? zp(rng) : 0;
  }
  return o;
}

struct GemmCase {
  int64_t m, k, n;
  Int8Type a_type, b_type;
  bool per_row_a, per_col_b, zp_a, zp_b;
};

std::string Name(const GemmCase& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) +
         (c.a_type == Int8Type::kU8 ? " u8" : " s8") + (c.b_type == Int8Type::kU8 ? "xu8" : "xs8") +
         (c.per_row_a ? " per-row-A" : "") + (c.per_col_b ? " per-col-B" : "") +
         (c.zp_a ? " zp-A" : "") + (c.zp_b ? " zp-B" : "");
}

const std::vector<GemmCase>& Cases() {
  using T = Int8Type;
  // Per-tensor A with zero weight zero points takes the fused oneDNN epilogue; the others
  // take the int32 epilogue. Both appear at each size.
  static const auto* cases = new std::vector<GemmCase>{
      {1, 1, 1, T::kU8, T::kS8, false, false, false, false},
      {1, 1, 1, T::kS8, T::kS8, false, false, true, true},
      {7, 13, 5, T::kU8, T::kS8, false, true, true, false},
      {7, 13, 5, T::kU8, T::kS8, false, true, true, true},
      {7, 13, 5, T::kS8, T::kU8, true, true, true, true},
      {7, 13, 5, T::kU8, T::kU8, true, false, false, false},
      {7, 13, 5, T::kS8, T::kS8, false, true, false, false},
      {33, 65, 17, T::kS8, T::kS8, true, true, false, false},
      {33, 65, 17, T::kS8, T::kS8, false, true, true, false},
      {64, 4096, 64, T::kU8, T::kS8, false, true, true, false},
      {64, 4096, 64, T::kU8, T::kS8, false, true, true, true},
      {64, 4096, 64, T::kS8, T::kS8, true, true, true, true},
      {512, 1024, 1024, T::kU8, T::kS8, false, true, true, false},
      {512, 1024, 1024, T::kS8, T::kU8, true, true, true, true},
  };
  return *cases;
}

TEST(ReferenceInt8GemmTest, MatchesHandComputedExample) {
  // A = [[1, 2], [3, 4]] u8 zp 1; B = [[-1, 2], [3, -4]] s8 zp 0; scales 0.5 and [1, 2].
  std::vector<uint8_t> a = {1, 2, 3, 4};
  std::vector<uint8_t> b = {static_cast<uint8_t>(-1), 2, 3, static_cast<uint8_t>(-4)};
  GemmOperand ga{{a.data(), Int8Type::kU8, 2, 2}, {{0.5f}, {1}}};
  GemmOperand gb{{b.data(), Int8Type::kS8, 2, 2}, {{1.0f, 2.0f}, {0}}};
  // (A - 1) = [[0, 1], [2, 3]]; (A - 1) B = [[3, -4], [7, -8]].
  absl::StatusOr<Int32Matrix> acc = ReferenceInt8GemmInt32(ga, gb);
  ASSERT_TRUE(acc.ok()) << acc.status();
  EXPECT_EQ((*acc)(0, 0), 3);
  EXPECT_EQ((*acc)(0, 1), -4);
  EXPECT_EQ((*acc)(1, 0), 7);
  EXPECT_EQ((*acc)(1, 1), -8);
  absl::StatusOr<FloatMatrix> c = ReferenceInt8Gemm(ga, gb);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)(0, 0), 1.5f);
  EXPECT_EQ((*c)(0, 1), -4.0f);
  EXPECT_EQ((*c)(1, 0), 3.5f);
  EXPECT_EQ((*c)(1, 1), -8.0f);
}

TEST(Int8GemmTest, BitExactAgainstOracleOnFullRangeOperands) {
  uint32_t seed = 1;
  for (const GemmCase& c : Cases()) {
    SCOPED_TRACE(Name(c));
    OwnedOperand a = RandomOperand(c.m, c.k, c.a_type, c.per_row_a ? c.m : 1, c.zp_a, ++seed);
    OwnedOperand b = RandomOperand(c.k, c.n, c.b_type, c.per_col_b ? c.n : 1, c.zp_b, ++seed);
    absl::StatusOr<Int32Matrix> want_acc = ReferenceInt8GemmInt32(a.op, b.op);
    ASSERT_TRUE(want_acc.ok()) << want_acc.status();
    absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(b.op);
    ASSERT_TRUE(gemm.ok()) << gemm.status();
    Int32Matrix got_acc;
    ASSERT_TRUE((*gemm)->RunInt32(a.op, &got_acc).ok());
    ASSERT_EQ(got_acc.rows(), c.m);
    ASSERT_EQ(got_acc.cols(), c.n);
    EXPECT_TRUE((got_acc.array() == want_acc->array()).all())
        << "int32 mismatches: " << (got_acc.array() != want_acc->array()).count();

    absl::StatusOr<FloatMatrix> want = ReferenceInt8Gemm(a.op, b.op);
    ASSERT_TRUE(want.ok());
    FloatMatrix got;
    ASSERT_TRUE((*gemm)->Run(a.op, &got).ok());
    EXPECT_EQ(std::memcmp(got.data(), want->data(), sizeof(float) * want->size()), 0)
        << "float outputs differ bitwise";

    // A reference fallback would be orders of magnitude slower: it must never go unnoticed.
    const std::string impl = (*gemm)->impl_name();
    EXPECT_EQ(impl.find("ref"), std::string::npos) << impl;
    EXPECT_FALSE(impl.empty());
    // Without VNNI, weights beyond [-64, 64] (as s8: u8 codes - 128) must be split.
    bool wide = false;
    for (int64_t k = 0; k < c.k; ++k) {
      for (int64_t n = 0; n < c.n; ++n) {
        const int32_t v = b.op.matrix.at(k, n) - (c.b_type == Int8Type::kU8 ? 128 : 0);
        wide = wide || v > 64 || v < -64;
      }
    }
    EXPECT_EQ((*gemm)->mitigation(), !EffectiveIsaHasVnni() && wide
                                         ? Int8Mitigation::kSplitWeights
                                         : Int8Mitigation::kNone);
  }
}

TEST(Int8GemmTest, PrimitiveIsReusedAcrossCallsAndShapes) {
  OwnedOperand b = RandomOperand(96, 40, Int8Type::kS8, 40, false, 77);
  absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(b.op);
  ASSERT_TRUE(gemm.ok());
  for (int64_t m : {3, 50, 3, 1, 50}) {
    OwnedOperand a = RandomOperand(m, 96, Int8Type::kU8, m, true, static_cast<uint32_t>(m));
    Int32Matrix got;
    ASSERT_TRUE((*gemm)->RunInt32(a.op, &got).ok());
    absl::StatusOr<Int32Matrix> want = ReferenceInt8GemmInt32(a.op, b.op);
    ASSERT_TRUE(want.ok());
    EXPECT_TRUE((got.array() == want->array()).all()) << "M=" << m;
  }
}

TEST(Int8GemmTest, SevenBitWeightsNeedNoSplitAndAreExact) {
  OwnedOperand a = RandomOperand(64, 512, Int8Type::kU8, 1, true, 5);
  OwnedOperand b = RandomOperand(512, 64, Int8Type::kS8, 64, false, 6);
  for (uint8_t& v : b.bytes) v = static_cast<uint8_t>(static_cast<int8_t>(v) / 2);  // [-64, 63]
  absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(b.op);
  ASSERT_TRUE(gemm.ok());
  EXPECT_EQ((*gemm)->mitigation(), Int8Mitigation::kNone);
  Int32Matrix got;
  ASSERT_TRUE((*gemm)->RunInt32(a.op, &got).ok());
  absl::StatusOr<Int32Matrix> want = ReferenceInt8GemmInt32(a.op, b.op);
  EXPECT_TRUE((got.array() == want->array()).all());
}

TEST(Int8GemmTest, UnmitigatedPathMismatchesOnNonVnniIsa) {
  if (EffectiveIsaHasVnni()) {
    GTEST_SKIP() << "ISA " << EffectiveCpuIsaName()
                 << " has VNNI: oneDNN's int8 kernel does not saturate int16 pairs here";
  }
  OwnedOperand a = RandomOperand(512, 1024, Int8Type::kU8, 1, false, 21);
  OwnedOperand b = RandomOperand(1024, 256, Int8Type::kS8, 1, false, 22);
  const int64_t saturations = CountInt16PairSaturations(a.op.matrix, b.op.matrix);
  EXPECT_GT(saturations, 0);
  absl::StatusOr<std::unique_ptr<Int8Gemm>> raw =
      Int8Gemm::Create(b.op, Int8GemmOptions{Int8Mitigation::kNone});
  ASSERT_TRUE(raw.ok());
  Int32Matrix got;
  ASSERT_TRUE((*raw)->RunInt32(a.op, &got).ok());
  absl::StatusOr<Int32Matrix> want = ReferenceInt8GemmInt32(a.op, b.op);
  const int64_t mismatches = (got.array() != want->array()).count();
  EXPECT_GT(mismatches, 0) << "expected int16 saturation on ISA " << EffectiveCpuIsaName();
  std::cout << "unmitigated oneDNN on " << EffectiveCpuIsaName() << ": " << mismatches << " of "
            << got.size() << " outputs wrong, " << saturations << " pair saturations, max |err| "
            << (got.cast<int64_t>() - want->cast<int64_t>()).cwiseAbs().maxCoeff() << "\n";
}

TEST(Int8GemmTest, SaturationCountMatchesDirectEnumeration) {
  // One pair that saturates (255*127 + 255*127) and one that does not.
  std::vector<uint8_t> a = {255, 255, 1, 1};
  std::vector<uint8_t> b = {127, 127, 127, 127};
  Int8MatrixView av{a.data(), Int8Type::kU8, 1, 4};
  Int8MatrixView bv{b.data(), Int8Type::kS8, 4, 1};
  EXPECT_EQ(CountInt16PairSaturations(av, bv), 1);
  // s8 activations are seen as a + 128: -128 -> 0, so nothing saturates.
  std::vector<uint8_t> s = {0x80, 0x80, 0x80, 0x80};
  EXPECT_EQ(CountInt16PairSaturations({s.data(), Int8Type::kS8, 1, 4}, bv), 0);
}

TEST(Int8GemmTest, BadOperandsAreErrors) {
  OwnedOperand b = RandomOperand(8, 4, Int8Type::kS8, 4, false, 1);
  absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(b.op);
  ASSERT_TRUE(gemm.ok());
  OwnedOperand a = RandomOperand(3, 7, Int8Type::kU8, 1, false, 2);  // K mismatch
  Int32Matrix acc;
  EXPECT_FALSE((*gemm)->RunInt32(a.op, &acc).ok());
  OwnedOperand a2 = RandomOperand(3, 8, Int8Type::kU8, 2, false, 2);  // 2 params for 3 rows
  EXPECT_FALSE((*gemm)->RunInt32(a2.op, &acc).ok());
  OwnedOperand a3 = RandomOperand(3, 8, Int8Type::kU8, 1, false, 2);
  a3.op.quant.zero_points = {300};
  EXPECT_FALSE((*gemm)->RunInt32(a3.op, &acc).ok());
  a3.op.quant.zero_points = {0};
  a3.op.quant.scales = {-1.0f};
  EXPECT_FALSE((*gemm)->RunInt32(a3.op, &acc).ok());
  OwnedOperand huge = RandomOperand(70000, 1, Int8Type::kS8, 1, false, 3);
  EXPECT_FALSE(Int8Gemm::Create(huge.op).ok());  // depth beyond the int32 bound
}

}  // namespace
}  // namespace sinkscope::quant
