// consumer: a program in another Bazel workspace that uses sinkscope as a library. It asks two
// of the project's questions on synthetic data:
//   1. what one massive activation costs an int8 per-tensor scale, against per-token scales
//      (quant/: FakeQuantize, ErrorMetrics);
//   2. how far a stack of 12 sliding-window layers (W = 128, residual strength 0.9) sees
//      (analysis/receptive_field.h).
#include <cstdio>
#include <random>

#include "analysis/receptive_field.h"
#include "quant/error_metrics.h"
#include "quant/quant_scheme.h"
#include "quant/quantize.h"
#include "quant/tensor.h"

namespace sq = sinkscope::quant;
namespace sa = sinkscope::analysis;

int main() {
  // Hidden states [64 tokens x 256 channels] with one massive activation on token 0 (an
  // attention sink's residual stream, as in Sun et al. 2024).
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  sq::FloatMatrix x(64, 256);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  x(0, 7) = 1500.0f;
  for (const auto& [name, scheme] :
       {std::pair<const char*, sq::QuantScheme>{"per-tensor", sq::QuantScheme::PerTensor()},
        {"per-token", sq::QuantScheme::PerToken()}}) {
    absl::StatusOr<sq::FloatMatrix> q = sq::FakeQuantize(x, scheme, "hidden");
    if (!q.ok()) {
      std::fprintf(stderr, "consumer: %s\n", std::string(q.status().message()).c_str());
      return 1;
    }
    absl::StatusOr<sq::ErrorMetrics> e = sq::ComputeErrorMetrics(sq::ViewOf(x), sq::ViewOf(*q));
    if (!e.ok()) return 1;
    std::printf("int8 %-10s hidden states with one massive activation: SQNR %.1f dB\n", name,
                e->sqnr_db);
  }
  absl::StatusOr<sa::StackModel> stack = sa::StackFromPattern("S", 12, 128, 0.9, 8192);
  if (!stack.ok()) return 1;
  const sa::CurveSummary s = sa::SummarizeCurve(sa::ExactInfluence(*stack), 0.01);
  std::printf("12 sliding layers, W=128, alpha=0.9: mean distance %.1f tokens, reach %lld tokens\n",
              s.mean, static_cast<long long>(s.reach_at_epsilon));
  return 0;
}
