#include "quant/reference_int8_gemm.h"

#include <vector>

namespace sinkscope::quant {

absl::StatusOr<Int32Matrix> ReferenceInt8GemmInt32(const GemmOperand& a, const GemmOperand& b) {
  if (absl::Status st = ValidateGemmOperands(a, b); !st.ok()) return st;
  const int64_t M = a.matrix.rows, K = a.matrix.cols, N = b.matrix.cols;
  Int32Matrix acc(M, N);
  std::vector<int64_t> row(N);
  for (int64_t m = 0; m < M; ++m) {
    std::fill(row.begin(), row.end(), 0);
    const int64_t za = a.quant.zero_point(m);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t av = a.matrix.at(m, k) - za;
      for (int64_t n = 0; n < N; ++n) {
        row[n] += av * (b.matrix.at(k, n) - b.quant.zero_point(n));
      }
    }
    for (int64_t n = 0; n < N; ++n) acc(m, n) = static_cast<int32_t>(row[n]);
  }
  return acc;
}

absl::StatusOr<FloatMatrix> ReferenceInt8Gemm(const GemmOperand& a, const GemmOperand& b) {
  absl::StatusOr<Int32Matrix> acc = ReferenceInt8GemmInt32(a, b);
  if (!acc.ok()) return acc.status();
  FloatMatrix c(acc->rows(), acc->cols());
  for (int64_t m = 0; m < c.rows(); ++m) {
    for (int64_t n = 0; n < c.cols(); ++n) {
      c(m, n) = (static_cast<float>((*acc)(m, n)) * b.quant.scale(n)) * a.quant.scale(m);
    }
  }
  return c;
}

int64_t CountInt16PairSaturations(const Int8MatrixView& a, const Int8MatrixView& b) {
  const int64_t M = a.rows, K = a.cols, N = b.cols;
  const auto a_u8 = [&](int64_t m, int64_t k) {
    return a.type == Int8Type::kU8 ? a.at(m, k) : a.at(m, k) + 128;
  };
  const auto b_s8 = [&](int64_t k, int64_t n) {
    return b.type == Int8Type::kS8 ? b.at(k, n) : b.at(k, n) - 128;
  };
  int64_t count = 0;
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t k = 0; k + 1 < K; k += 2) {
      const int32_t a0 = a_u8(m, k), a1 = a_u8(m, k + 1);
      for (int64_t n = 0; n < N; ++n) {
        const int32_t s = a0 * b_s8(k, n) + a1 * b_s8(k + 1, n);
        count += (s > 32767 || s < -32768);
      }
    }
  }
  return count;
}

}  // namespace sinkscope::quant
