// streaming_decode_benchmark: the per-token cost of StreamingAttention::Step (StreamingLLM decode
// over a 4 sink + 1020 window KV cache) at stream position ~1K and ~64K, d_model 1024, 16 heads
// of 64 (MHA and GQA 16/4), RoPE, both position modes, one thread. The cache is full at both
// positions, so a decode step that is O(cache) and independent of the stream length costs the
// same: the ratio cost(64K) / cost(1K) printed at the end should be ~1 (target <= 1.1).
//
// Each stream is filled once with Prefill (which projects only the tokens that stay in the
// cache) up to 64 tokens before its position, then 64 Steps; the timed Steps continue the stream.
// Prints Google Benchmark's table (tokens/s counter), then per configuration the median tokens/s
// at both positions and the ratio.
//
// Usage: bazel run //bench:streaming_decode_benchmark
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "attention/streaming_kv_cache.h"
#include "bench/median_reporter.h"
#include "benchmark/benchmark.h"

namespace sinkscope::attention {
namespace {

constexpr int kSinks = 4;
constexpr int kWindow = 1020;
constexpr int64_t kNear = 1024;
constexpr int64_t kFar = 65536;

struct Config {
  int kv_heads;
  CachePositions mode;
  std::string name() const {
    return std::string(kv_heads == 16 ? "mha16" : "gqa16x4") + "/" + CachePositionsName(mode);
  }
};

const std::vector<Config>& Configs() {
  static const auto* configs = new std::vector<Config>{
      {16, CachePositions::kWithinCache},
      {4, CachePositions::kWithinCache},
      {16, CachePositions::kOriginal},
      {4, CachePositions::kOriginal},
  };
  return *configs;
}

AttentionSpec Spec(int kv_heads) {
  AttentionSpec s;
  s.d_model = 1024;
  s.num_heads = 16;
  s.num_kv_heads = kv_heads;
  s.head_dim = 64;
  s.rope_theta = 10000.0f;
  s.rope_layout = RopeLayout::kRotateHalf;
  return s;
}

FloatMatrix RandomRows(int64_t rows, int cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(rows, cols);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

struct Stream {
  std::unique_ptr<StreamingAttention> layer;
  FloatMatrix tokens;  // the hidden states the timed Steps cycle through
  int64_t next = 0;
};

// One stream per (config, position), built on first use and continued by every repetition.
Stream* GetStream(const Config& c, int64_t position) {
  static auto* streams = new std::map<std::string, std::unique_ptr<Stream>>();
  const std::string key = c.name() + "@" + std::to_string(position);
  auto it = streams->find(key);
  if (it != streams->end()) return it->second.get();
  const AttentionSpec spec = Spec(c.kv_heads);
  absl::StatusOr<StreamingAttention> layer = StreamingAttention::Create(
      spec, RandomAttentionWeights(spec, 7), kSinks, kWindow, c.mode);
  if (!layer.ok()) {
    std::fprintf(stderr, "%s\n", std::string(layer.status().message()).c_str());
    return nullptr;
  }
  auto s = std::make_unique<Stream>();
  s->layer = std::make_unique<StreamingAttention>(*std::move(layer));
  s->tokens = RandomRows(256, spec.d_model, 3);
  const FloatMatrix chunk = RandomRows(4096, spec.d_model, 5);
  constexpr int64_t kWarmSteps = 64;
  for (int64_t left = position - kWarmSteps; left > 0;) {
    const int64_t n = std::min<int64_t>(left, chunk.rows());
    if (!s->layer->Prefill(chunk.topRows(n)).ok()) return nullptr;
    left -= n;
  }
  FloatVector y;
  for (int64_t i = 0; i < kWarmSteps; ++i) {
    if (!s->layer->Step(s->tokens.row(i % s->tokens.rows()), &y).ok()) return nullptr;
  }
  Stream* raw = s.get();
  (*streams)[key] = std::move(s);
  return raw;
}

void BM_Step(benchmark::State& state, Config c, int64_t position) {
  Stream* s = GetStream(c, position);
  if (s == nullptr) {
    state.SkipWithError("stream setup failed");
    return;
  }
  const int64_t from = s->layer->tokens_streamed();
  FloatVector y;
  for (auto _ : state) {
    if (!s->layer->Step(s->tokens.row(s->next++ % s->tokens.rows()), &y).ok()) {
      state.SkipWithError("Step failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["tokens/s"] =
      benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("positions " + std::to_string(from) + ".." +
                 std::to_string(s->layer->tokens_streamed() - 1) + ", cache " +
                 std::to_string(s->layer->cache().size()));
}


std::string Name(const Config& c, int64_t position) {
  return "step/" + c.name() + "/pos" + (position == kNear ? "1K" : "64K");
}

void Register() {
  for (const Config& c : Configs()) {
    for (int64_t position : {kNear, kFar}) {
      benchmark::RegisterBenchmark(Name(c, position).c_str(), BM_Step, c, position)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
}

void PrintRatios(const bench::MedianReporter& r) {
  std::printf("\nStreamingAttention::Step, d_model 1024, 16 heads x 64, RoPE, cache %d sinks + %d "
              "window, 1 thread. Median over repetitions.\n",
              kSinks, kWindow);
  std::printf("%-26s %14s %14s %22s\n", "config", "tokens/s @1K", "tokens/s @64K",
              "cost(64K)/cost(1K)");
  for (const Config& c : Configs()) {
    const double near = r.Median(Name(c, kNear)), far = r.Median(Name(c, kFar));
    // GetAdjustedRealTime is in the benchmark's unit (microseconds).
    std::printf("%-26s %14.0f %14.0f %22.3f\n", c.name().c_str(), near > 0 ? 1e6 / near : 0.0,
                far > 0 ? 1e6 / far : 0.0, near > 0 ? far / near : 0.0);
  }
}

}  // namespace
}  // namespace sinkscope::attention

int main(int argc, char** argv) {
  omp_set_num_threads(1);
  Eigen::setNbThreads(1);
  // 5 repetitions, interleaved so that a slow spell of this shared machine does not land on one
  // position only. Overridable on the command line.
  if (!sinkscope::bench::InitializeBenchmarks(
          &argc, argv,
          {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true"})) {
    return 2;
  }
  sinkscope::attention::Register();
  sinkscope::bench::MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  sinkscope::attention::PrintRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
