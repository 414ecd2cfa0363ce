// attention_benchmark: one attention layer's throughput (tokens/s), T in {512, 2048},
// d_model 1024, 16 heads (MHA) and 16/4 (GQA), causal, 1 thread: Int8Attention vs
// ReferenceAttention on its two fp32 backends, quant::Sgemm's rule (reference_fp32_sgemm:
// OpenBLAS) and Eigen forced (reference_fp32_eigen: the SSE2 build's products), vs the same
// layer on oneDNN fp32 matmuls. Prints the ratios of median times at the end.
//
// Usage: bazel run //bench:attention_benchmark
//        DNNL_MAX_CPU_ISA=AVX2 bazel run //bench:attention_benchmark   (a CPU without VNNI)
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "attention/int8_attention.h"
#include "attention/onednn_f32_backend.h"
#include "attention/reference_attention.h"
#include "bench/median_reporter.h"
#include "benchmark/benchmark.h"
#include "quant/int8_gemm.h"
#include "quant/sgemm.h"

namespace sinkscope::attention {
namespace {

struct Config {
  int64_t tokens;
  int kv_heads;
  std::string name;
};

const std::vector<Config>& Configs() {
  static const auto* c = new std::vector<Config>{
      {512, 16, "T512_mha"}, {2048, 16, "T2048_mha"}, {512, 4, "T512_gqa"}, {2048, 4, "T2048_gqa"}};
  return *c;
}

AttentionSpec Spec(const Config& c) {
  AttentionSpec s;
  s.d_model = 1024;
  s.num_heads = 16;
  s.num_kv_heads = c.kv_heads;
  s.head_dim = 64;
  s.rope_theta = 10000.0f;
  return s;
}

FloatMatrix Input(int64_t T, int d) {
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(T, d);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

void Finish(benchmark::State& state, const Config& c) {
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(c.tokens), benchmark::Counter::kIsIterationInvariantRate);
}

// ReferenceAttention with quant::Sgemm forced to `backend` (nullopt: the rule).
void BM_Reference(benchmark::State& state, Config c,
                  std::optional<quant::SgemmBackend> backend) {
  quant::ForceSgemmBackend(backend);
  const AttentionSpec s = Spec(c);
  absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(s, RandomAttentionWeights(s, 2));
  const FloatMatrix x = Input(c.tokens, s.d_model);
  for (auto _ : state) {
    absl::StatusOr<FloatMatrix> y = layer->Forward(x);
    benchmark::DoNotOptimize(y->data());
  }
  state.SetLabel(quant::SgemmBackendName());
  quant::ForceSgemmBackend(std::nullopt);
  Finish(state, c);
}

void BM_OnednnF32(benchmark::State& state, Config c) {
  const AttentionSpec s = Spec(c);
  const AttentionWeights w = RandomAttentionWeights(s, 2);
  OnednnF32Backend backend(w);
  const FloatMatrix x = Input(c.tokens, s.d_model);
  for (auto _ : state) {
    absl::StatusOr<FloatMatrix> y = RunAttentionLayer(s, w, backend, x, nullptr);
    benchmark::DoNotOptimize(y->data());
  }
  Finish(state, c);
}

void BM_Int8(benchmark::State& state, Config c) {
  const AttentionSpec s = Spec(c);
  absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, RandomAttentionWeights(s, 2));
  const FloatMatrix x = Input(c.tokens, s.d_model);
  for (auto _ : state) {
    absl::StatusOr<FloatMatrix> y = layer->Forward(x);
    benchmark::DoNotOptimize(y->data());
  }
  state.SetLabel(layer->gemm_description());
  Finish(state, c);
}


}  // namespace
}  // namespace sinkscope::attention

int main(int argc, char** argv) {
  namespace sa = sinkscope::attention;
  omp_set_num_threads(1);
  Eigen::setNbThreads(1);
  sinkscope::quant::SetSgemmThreads(1);
  if (!sinkscope::bench::InitializeBenchmarks(&argc, argv, {"--benchmark_repetitions=3"})) {
    return 2;
  }
  for (const sa::Config& c : sa::Configs()) {
    benchmark::RegisterBenchmark(("reference_fp32_eigen/" + c.name).c_str(), sa::BM_Reference, c,
                                 sinkscope::quant::SgemmBackend::kEigen)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark(("reference_fp32_sgemm/" + c.name).c_str(), sa::BM_Reference, c,
                                 std::nullopt)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark(("onednn_fp32/" + c.name).c_str(), sa::BM_OnednnF32, c)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark(("int8/" + c.name).c_str(), sa::BM_Int8, c)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
  }
  sinkscope::bench::MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nISA %s, 1 thread; sgemm %s. Speed ratios time(baseline) / time(int8) (>1: "
              "int8 faster):\n",
              sinkscope::quant::EffectiveCpuIsaName().c_str(),
              sinkscope::quant::SgemmDescription().c_str());
  std::printf("%-12s %18s %18s %18s %18s\n", "config", "int8 vs Eigen fp32", "int8 vs Sgemm fp32",
              "int8 vs oneDNN fp32", "Eigen / Sgemm fp32");
  for (const sa::Config& c : sa::Configs()) {
    const double t8 = reporter.Median("int8/" + c.name);
    const double eigen = reporter.Median("reference_fp32_eigen/" + c.name);
    const double sgemm = reporter.Median("reference_fp32_sgemm/" + c.name);
    std::printf("%-12s %18.2f %18.2f %18.2f %18.2f\n", c.name.c_str(), t8 > 0 ? eigen / t8 : 0.0,
                t8 > 0 ? sgemm / t8 : 0.0,
                t8 > 0 ? reporter.Median("onednn_fp32/" + c.name) / t8 : 0.0,
                sgemm > 0 ? eigen / sgemm : 0.0);
  }
  benchmark::Shutdown();
  return 0;
}
