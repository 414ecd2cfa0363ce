#include "quant/int8_matrix.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {
namespace {

absl::Status ValidateSide(const GemmOperand& op, const char* name, int64_t param_dim) {
  const Int8MatrixView& m = op.matrix;
  if (m.rows < 0 || m.cols < 0 || (m.data == nullptr && m.rows * m.cols > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("gemm operand ", name, ": invalid matrix"));
  }
  const auto count_ok = [&](size_t n) {
    return n == 1 || static_cast<int64_t>(n) == param_dim;
  };
  if (!count_ok(op.quant.scales.size()) || !count_ok(op.quant.zero_points.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gemm operand ", name, ": need 1 or ", param_dim, " scales and zero points, got ",
        op.quant.scales.size(), " and ", op.quant.zero_points.size()));
  }
  for (float s : op.quant.scales) {
    if (!std::isfinite(s) || s <= 0.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("gemm operand ", name, ": scale ", s, " is not finite and positive"));
    }
  }
  const int32_t lo = m.type == Int8Type::kS8 ? -128 : 0;
  const int32_t hi = m.type == Int8Type::kS8 ? 127 : 255;
  for (int32_t z : op.quant.zero_points) {
    if (z < lo || z > hi) {
      return absl::InvalidArgumentError(absl::StrCat("gemm operand ", name, ": zero point ", z,
                                                     " outside [", lo, ", ", hi, "]"));
    }
  }
  return absl::OkStatus();
}

// Largest |code - zero point| the operand can hold.
int64_t MaxDeviation(const GemmOperand& op) {
  const int32_t lo = op.matrix.type == Int8Type::kS8 ? -128 : 0;
  const int32_t hi = op.matrix.type == Int8Type::kS8 ? 127 : 255;
  int64_t dev = 0;
  for (int32_t z : op.quant.zero_points) {
    dev = std::max<int64_t>(dev, std::max(std::abs(lo - z), std::abs(hi - z)));
  }
  return dev;
}

}  // namespace

absl::StatusOr<GemmOperand> GemmOperandFrom(const QuantizedTensor& q, GemmSide side) {
  const QuantParams& p = q.params;
  if (p.shape.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("gemm operand must be rank 2, got shape ", ShapeToString(p.shape)));
  }
  const Granularity g = p.scheme.granularity;
  const int axis = p.scheme.axis < 0 ? p.scheme.axis + 2 : p.scheme.axis;
  const bool ok = g == Granularity::kPerTensor ||
                  (side == GemmSide::kA &&
                   (g == Granularity::kPerToken || (g == Granularity::kPerChannel && axis == 0))) ||
                  (side == GemmSide::kB && g == Granularity::kPerChannel && axis == 1);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scheme '", p.scheme.ToString(), "' does not fit one GEMM as operand ",
        side == GemmSide::kA ? "A (needs per-tensor or per-token)"
                             : "B (needs per-tensor or per-channel axis 1)"));
  }
  GemmOperand op;
  op.matrix = Int8MatrixView{q.bytes.data(), q.is_signed() ? Int8Type::kS8 : Int8Type::kU8,
                             p.shape[0], p.shape[1]};
  op.quant.scales = p.scales;
  op.quant.zero_points = p.zero_points;
  return op;
}

absl::Status ValidateGemmOperands(const GemmOperand& a, const GemmOperand& b) {
  if (a.matrix.cols != b.matrix.rows) {
    return absl::InvalidArgumentError(absl::StrCat("gemm: A is ", a.matrix.rows, "x",
                                                   a.matrix.cols, " but B is ", b.matrix.rows,
                                                   "x", b.matrix.cols));
  }
  if (absl::Status st = ValidateSide(a, "A", a.matrix.rows); !st.ok()) return st;
  if (absl::Status st = ValidateSide(b, "B", b.matrix.cols); !st.ok()) return st;
  const int64_t bound = a.matrix.cols * MaxDeviation(a) * MaxDeviation(b);
  if (bound > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gemm: K = ", a.matrix.cols, " could overflow the int32 accumulator (worst case ", bound,
        "); split the reduction"));
  }
  return absl::OkStatus();
}

}  // namespace sinkscope::quant
