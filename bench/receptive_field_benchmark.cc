// receptive_field_benchmark: the exact influence model. The size (L = 100, W = 4096,
// N = 1,000,000) must take about a second at most; and the O(N) running-window layer against the
// O(N W) definition on a smaller stack, as a ratio measured in the same process.
#include <cstdio>

#include "analysis/receptive_field.h"
#include "benchmark/benchmark.h"

namespace sinkscope::analysis {
namespace {

void BM_Exact(benchmark::State& state, int layers, int64_t window, int64_t context) {
  const StackModel m = *StackFromPattern("S", layers, window, 0.9, context);
  for (auto _ : state) {
    std::vector<double> p = ExactInfluence(m);
    benchmark::DoNotOptimize(p.data());
  }
}

void BM_Naive(benchmark::State& state, int layers, int64_t window, int64_t context) {
  const StackModel m = *StackFromPattern("S", layers, window, 0.9, context);
  for (auto _ : state) {
    std::vector<double> p = NaiveInfluence(m);
    benchmark::DoNotOptimize(p.data());
  }
}

}  // namespace
}  // namespace sinkscope::analysis

int main(int argc, char** argv) {
  namespace sa = sinkscope::analysis;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RegisterBenchmark("exact/L100_W4096_N1e6", sa::BM_Exact, 100, 4096, 1000000)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("exact/L10_W512_N20000", sa::BM_Exact, 10, 512, 20000)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("naive/L10_W512_N20000", sa::BM_Naive, 10, 512, 20000)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
