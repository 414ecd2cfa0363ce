// sgemm_benchmark: the measurements behind quant/sgemm.h's backend rule. Every backend (Eigen,
// oneDNN f32 matmul, OpenBLAS) on one table of shapes: the Qwen2.5-0.5B forward's products on
// 512 tokens and on 1 token, the attention layer's Q K^T and P V blocks, a 1024^3 square and
// the small products of the tests. Prints GFLOPS per backend and shape, the fastest backend, and
// what the rule (quant::RuleSgemmBackend) picks.
//
// Usage: sgemm_benchmark [--threads=N] [benchmark flags]
//        OPENBLAS_CORETYPE=Haswell DNNL_MAX_CPU_ISA=AVX2 sgemm_benchmark   (an AVX2 CPU)
//        OPENBLAS_CORETYPE=Nehalem DNNL_MAX_CPU_ISA=SSE41 sgemm_benchmark  (SSE4 only)
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/median_reporter.h"
#include "benchmark/benchmark.h"
#include "quant/int8_gemm.h"
#include "quant/sgemm.h"

namespace sinkscope::quant {
namespace {

struct GemmShape {
  std::string name;
  int64_t m, n, k;
  bool transpose_b;
};

const std::vector<GemmShape>& Shapes() {
  static const auto* s = new std::vector<GemmShape>{
      {"tiny_8x16x16", 8, 16, 16, true},
      {"small_32x32x32", 32, 32, 32, true},
      {"small_64x64x64", 64, 64, 64, true},
      {"small_16x256x64", 16, 256, 64, true},
      {"decode_q_1x896x896", 1, 896, 896, true},
      {"decode_up_1x4864x896", 1, 4864, 896, true},
      {"decode_down_1x896x4864", 1, 896, 4864, true},
      {"T512_q_512x896x896", 512, 896, 896, true},
      {"T512_kv_512x128x896", 512, 128, 896, true},
      {"T512_up_512x4864x896", 512, 4864, 896, true},
      {"T512_down_512x896x4864", 512, 896, 4864, true},
      {"T512_lmhead_512x4681x896", 512, 4681, 896, true},
      {"attn_scores_2044x512x64", 2044, 512, 64, true},
      {"attn_mix_2044x64x512", 2044, 64, 512, false},
      {"square_1024", 1024, 1024, 1024, false},
  };
  return *s;
}

FloatMatrix Random(int64_t rows, int64_t cols, int seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(rows, cols);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

void BM_Sgemm(benchmark::State& state, SgemmBackend backend, GemmShape s) {
  const FloatMatrix a = Random(s.m, s.k, 1);
  const FloatMatrix b = s.transpose_b ? Random(s.n, s.k, 2) : Random(s.k, s.n, 2);
  FloatMatrix c;
  for (auto _ : state) {
    SgemmWith(backend, a, b, s.transpose_b, &c);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * s.m * s.n * s.k,
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}

const SgemmBackend kBackends[] = {SgemmBackend::kEigen, SgemmBackend::kOnednn,
                                  SgemmBackend::kOpenblas};

}  // namespace
}  // namespace sinkscope::quant

int main(int argc, char** argv) {
  namespace sq = sinkscope::quant;
  int threads = 1;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--threads=", 0) == 0) {
      threads = std::atoi(a.c_str() + 10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  sq::ForceSgemmBackend(std::nullopt);
  sq::SetSgemmThreads(threads);
  omp_set_num_threads(threads);
  if (!sinkscope::bench::InitializeBenchmarks(&n, rest.data(), {"--benchmark_repetitions=3"})) {
    return 2;
  }
  for (const sq::GemmShape& s : sq::Shapes()) {
    for (sq::SgemmBackend b : sq::kBackends) {
      benchmark::RegisterBenchmark(
          (std::string(sq::SgemmBackendName(b)) + "/" + s.name).c_str(), sq::BM_Sgemm, b, s)
          ->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.2);
    }
  }
  sinkscope::bench::MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n%d thread(s); oneDNN ISA %s; %s\n", threads, sq::EffectiveCpuIsaName().c_str(),
              sq::SgemmDescription().c_str());
  std::printf("%-26s %9s %9s %9s  %-9s %-9s\n", "shape (MxNxK)", "eigen", "onednn", "openblas",
              "fastest", "rule");
  for (const sq::GemmShape& s : sq::Shapes()) {
    double best = 0.0;
    sq::SgemmBackend fastest = sq::SgemmBackend::kEigen;
    std::printf("%-26s", s.name.c_str());
    for (sq::SgemmBackend b : sq::kBackends) {
      const double g =
          reporter.MedianCounter(std::string(sq::SgemmBackendName(b)) + "/" + s.name, "GFLOPS") / 1e9;
      std::printf(" %9.1f", g);
      if (g > best) {
        best = g;
        fastest = b;
      }
    }
    std::printf("  %-9s %-9s\n", sq::SgemmBackendName(fastest),
                sq::SgemmBackendName(sq::RuleSgemmBackend(s.m, s.n, s.k)));
  }
  benchmark::Shutdown();
  return 0;
}
