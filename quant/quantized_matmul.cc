#include "quant/quantized_matmul.h"

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "quant/int8_matrix.h"
#include "quant/quantize.h"
#include "quant/reference_int8_gemm.h"

namespace sinkscope::quant {
namespace {

int ResolvedAxis(const QuantScheme& s) { return s.axis < 0 ? s.axis + 2 : s.axis; }

// K-block size a scheme imposes on its operand (0: none), or an error if it cannot be a GEMM
// operand on that side.
absl::StatusOr<int64_t> BlockOf(const QuantScheme& s, GemmSide side) {
  const int k_axis = side == GemmSide::kA ? 1 : 0;
  switch (s.granularity) {
    case Granularity::kPerTensor:
      return 0;
    case Granularity::kPerToken:
      if (side == GemmSide::kA) return 0;
      break;
    case Granularity::kPerChannel:
      if (ResolvedAxis(s) == 1 - k_axis) return 0;
      break;
    case Granularity::kPerGroup:
      if (ResolvedAxis(s) == k_axis) return s.group_size;
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "scheme '", s.ToString(), "' does not fit a GEMM as operand ",
      side == GemmSide::kA ? "A [M x K]" : "B [K x N]",
      side == GemmSide::kA ? ": use per-tensor, per-token or per-group along K (axis 1)"
                           : ": use per-tensor, per-channel axis 1 or per-group along K (axis 0)"));
}

// Scales and zero points of one K block of an operand.
GemmQuant BlockQuant(const QuantParams& p, GemmSide side, int64_t block) {
  GemmQuant q;
  const ParamLayout& l = p.layout;
  if (l.num_params == 1) {
    q.scales = {p.scales[0]};
    q.zero_points = {p.zero_points[0]};
    return q;
  }
  const int64_t count = side == GemmSide::kA ? p.shape[0] : p.shape[1];
  q.scales.resize(count);
  q.zero_points.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t idx = i;  // per-token / per-channel
    if (p.scheme.granularity == Granularity::kPerGroup) {
      idx = side == GemmSide::kA ? i * l.groups_along_axis + block  // (m, block)
                                 : block * l.inner + i;             // (block, n)
    }
    q.scales[i] = p.scales[idx];
    q.zero_points[i] = p.zero_points[idx];
  }
  return q;
}

void AddInto(const FloatMatrix& part, FloatMatrix* sum, bool first) {
  if (first) {
    *sum = part;
  } else {
    *sum += part;
  }
}

}  // namespace

absl::StatusOr<QuantizedMatmulResult> QuantizedMatmul(const FloatMatrix& a, const FloatMatrix& b,
                                                      const QuantScheme& scheme_a,
                                                      const QuantScheme& scheme_b,
                                                      QuantizedMatmulOptions options) {
  if (a.cols() != b.rows()) {
    return absl::InvalidArgumentError(absl::StrCat("QuantizedMatmul: A is ", a.rows(), "x",
                                                   a.cols(), ", B is ", b.rows(), "x", b.cols()));
  }
  absl::StatusOr<int64_t> block_a = BlockOf(scheme_a, GemmSide::kA);
  if (!block_a.ok()) return block_a.status();
  absl::StatusOr<int64_t> block_b = BlockOf(scheme_b, GemmSide::kB);
  if (!block_b.ok()) return block_b.status();
  if (*block_a != 0 && *block_b != 0 && *block_a != *block_b) {
    return absl::InvalidArgumentError(absl::StrCat("QuantizedMatmul: group sizes differ (A ",
                                                   *block_a, ", B ", *block_b, ")"));
  }
  const int64_t M = a.rows(), K = a.cols(), N = b.cols();
  const int64_t block = *block_a != 0 ? *block_a : (*block_b != 0 ? *block_b : K);

  absl::StatusOr<QuantizedTensor> qa = Quantize(ViewOf(a), scheme_a, "A");
  if (!qa.ok()) return qa.status();
  absl::StatusOr<QuantizedTensor> qb = Quantize(ViewOf(b), scheme_b, "B");
  if (!qb.ok()) return qb.status();

  QuantizedMatmulResult r;
  r.clipped_a = qa->clipped;
  r.clipped_b = qb->clipped;
  r.reference = (a.cast<double>() * b.cast<double>()).cast<float>();
  std::vector<uint8_t> a_block;
  for (int64_t k0 = 0, bi = 0; k0 < K; k0 += block, ++bi) {
    const int64_t kb = std::min(block, K - k0);
    a_block.resize(M * kb);
    for (int64_t m = 0; m < M; ++m) std::memcpy(&a_block[m * kb], &qa->bytes[m * K + k0], kb);
    GemmOperand opa{Int8MatrixView{a_block.data(), qa->is_signed() ? Int8Type::kS8 : Int8Type::kU8,
                                   M, kb},
                    BlockQuant(qa->params, GemmSide::kA, bi)};
    GemmOperand opb{Int8MatrixView{qb->bytes.data() + k0 * N,
                                   qb->is_signed() ? Int8Type::kS8 : Int8Type::kU8, kb, N},
                    BlockQuant(qb->params, GemmSide::kB, bi)};
    const bool first = k0 == 0;

    absl::StatusOr<FloatMatrix> oracle = ReferenceInt8Gemm(opa, opb);
    if (!oracle.ok()) return oracle.status();
    AddInto(*oracle, &r.oracle, first);

    absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(opb);
    if (!gemm.ok()) return gemm.status();
    FloatMatrix part;
    if (absl::Status st = (*gemm)->Run(opa, &part); !st.ok()) return st;
    AddInto(part, &r.onednn, first);
    r.impl = (*gemm)->impl_name();
    if ((*gemm)->mitigation() != Int8Mitigation::kNone) r.mitigation = (*gemm)->mitigation();

    if (options.run_unmitigated) {
      absl::StatusOr<std::unique_ptr<Int8Gemm>> raw =
          Int8Gemm::Create(opb, Int8GemmOptions{Int8Mitigation::kNone});
      if (!raw.ok()) return raw.status();
      if (absl::Status st = (*raw)->Run(opa, &part); !st.ok()) return st;
      AddInto(part, &r.unmitigated, first);
    }
    if (options.count_saturations) r.saturations += CountInt16PairSaturations(opa.matrix, opb.matrix);
  }
  r.bit_exact = r.onednn.size() == r.oracle.size() &&
                std::memcmp(r.onednn.data(), r.oracle.data(), sizeof(float) * r.oracle.size()) == 0;

  const auto measure = [&](const FloatMatrix& approx, ErrorMetrics* out) -> absl::Status {
    absl::StatusOr<ErrorMetrics> e = ComputeErrorMetrics(ViewOf(r.reference), ViewOf(approx));
    if (!e.ok()) return e.status();
    *out = *e;
    out->saturations = r.saturations;
    out->clipped = r.clipped_a + r.clipped_b;
    return absl::OkStatus();
  };
  if (absl::Status st = measure(r.oracle, &r.oracle_error); !st.ok()) return st;
  if (absl::Status st = measure(r.onednn, &r.onednn_error); !st.ok()) return st;
  if (options.run_unmitigated) {
    if (absl::Status st = measure(r.unmitigated, &r.unmitigated_error); !st.ok()) return st;
  }
  return r;
}

}  // namespace sinkscope::quant
