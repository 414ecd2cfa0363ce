// model_forward_benchmark: the speed and memory of the fp32 forward pass (model::Transformer)
// on a synthetic Qwen2.5-0.5B-shaped BF16 checkpoint (bench/llama_checkpoint.h: 24 layers,
// d 896, ffn 4864, 14/2 heads of 64, vocab 151,936; 1.26 GB), as ratios against baselines run
// in the same process.
//
//   speed (--mode=speed): tokens/s of Transformer::Forward (logits and mean NLL) on --tokens
//     tokens against the same forward written with libtorch ops (bench/torch_llama.h: weights
//     widened to fp32 tensors once; its matmuls run on the same OpenBLAS), at each of --threads
//     (SetSgemmThreads + OpenMP; torch::set_num_threads). Target: ours / libtorch >= 1.0. Also
//     checks that both compute the same logits (max |difference| / max |logit|) and NLL.
//   quant (--mode=quant): analysis::QuantizedForward under each of --quant_configs (default
//     w8a8,kv8,fp8) against its fp32 configuration, per thread count. Target: quantized / fp32
//     time <= 1.6.
//   rss (--mode=rss): peak RSS (ru_maxrss) of a forked child that opens the model and runs one
//     fp32 forward (then one of the first quantized configuration), against the target
//     mapped file + two layers in fp32 + activations.
// --shape=small (4 layers, d 256, ffn 704, 4/2 heads, vocab 8192) and --tokens=N for quick
// runs; --layers=N overrides the layer count. The temp dir is deleted at exit.
//
// Usage: model_forward_benchmark [--mode=speed|quant|rss|all] [--shape=qwen05b|small]
//                                [--tokens=512] [--threads=1,2] [--quant_configs=w8a8,kv8,fp8]
//                                [benchmark flags]
#include <omp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "analysis/quant_eval.h"
#include "bench/llama_checkpoint.h"
#include "bench/median_reporter.h"
#include "bench/torch_llama.h"
#include "benchmark/benchmark.h"
#include "model/transformer.h"
#include "quant/sgemm.h"

namespace sinkscope::bench {
namespace {

struct Options {
  std::string mode = "all";
  std::string shape = "qwen05b";
  int tokens = 512;
  int layers = 0;  // 0: the shape's
  std::vector<int> threads = {1, 2};
  std::vector<std::string> quant_configs = {"w8a8", "kv8", "fp8"};
};

LlamaShape ShapeOf(const Options& o) {
  LlamaShape s = Qwen05bShape();
  if (o.shape == "small") {
    s.d = 256;
    s.ffn = 704;
    s.heads = 4;
    s.kv_heads = 2;
    s.head_dim = 64;
    s.vocab = 8192;
    s.layers = 4;
  }
  if (o.layers > 0) s.layers = o.layers;
  return s;
}

std::vector<int32_t> TokenIds(int n, int64_t vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 1) % vocab));
  return ids;
}

// Every pool the forward passes use: OpenBLAS (ours, libtorch's matmuls), OpenMP (oneDNN's int8
// GEMM, libtorch's elementwise ops).
void SetAllThreads(int threads) {
  quant::SetSgemmThreads(threads);
  omp_set_num_threads(threads);
  SetTorchThreads(threads);
}

// User + system CPU seconds of this process (every thread) so far.
double ProcessCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// tokens/s of wall time, and the process's CPU seconds per iteration (this machine is shared:
// wall time includes waiting for a core, CPU time does not).
void SetCounters(benchmark::State& state, int tokens, double cpu0) {
  state.counters["tokens/s"] =
      benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["cpu_s"] = (ProcessCpuSeconds() - cpu0) / static_cast<double>(state.iterations());
}

std::string Name(const std::string& what, int threads) {
  return absl::StrCat(what, "/threads:", threads);
}

int RunSpeed(const Options& o, const analysis::ActivationScanInput& in) {
  const model::Transformer& t = *in.transformer;
  const model::Checkpoint* ck = in.checkpoint.get();
  absl::StatusOr<std::unique_ptr<TorchLlama>> torch_model = TorchLlama::Load(
      t.config(), [ck](const std::string& name) { return ck->View(name); });
  if (!torch_model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(torch_model.status().message()).c_str());
    return 1;
  }
  const std::vector<int32_t> ids = TokenIds(o.tokens, t.config().vocab_size);

  // Same model, same numbers: logits and NLL against libtorch's.
  SetAllThreads(o.threads.front());
  absl::StatusOr<model::ForwardResult> ours = t.Forward(ids);
  if (!ours.ok()) {
    std::fprintf(stderr, "forward: %s\n", std::string(ours.status().message()).c_str());
    return 1;
  }
  const std::string backend = quant::SgemmBackendName();
  const TorchForward theirs = (*torch_model)->Forward(ids, /*keep_logits=*/true);
  double max_diff = 0.0, max_logit = 0.0;
  for (size_t i = 0; i < theirs.logits.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours->logits.data()[i]) -
                                            theirs.logits[i]));
    max_logit = std::max(max_logit, std::fabs(static_cast<double>(theirs.logits[i])));
  }
  for (int threads : o.threads) {
    benchmark::RegisterBenchmark(Name("ours", threads).c_str(), [&, threads](benchmark::State& s) {
      SetAllThreads(threads);
      const double cpu0 = ProcessCpuSeconds();
      for (auto _ : s) {
        absl::StatusOr<model::ForwardResult> r = t.Forward(ids);
        benchmark::DoNotOptimize(r->mean_nll);
      }
      SetCounters(s, o.tokens, cpu0);
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(Name("libtorch", threads).c_str(),
                                 [&, threads](benchmark::State& s) {
                                   SetAllThreads(threads);
                                   const double cpu0 = ProcessCpuSeconds();
                                   for (auto _ : s) {
                                     TorchForward r = (*torch_model)->Forward(ids, false);
                                     benchmark::DoNotOptimize(r.mean_nll);
                                   }
                                   SetCounters(s, o.tokens, cpu0);
                                 })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();  // they refer to this function's locals
  std::printf("\nfp32 forward, %d tokens; sgemm backend %s (%s)\n", o.tokens, backend.c_str(),
              quant::SgemmDescription().c_str());
  std::printf("logits vs libtorch: max |diff| %.3g (max |logit| %.3g, relative %.2e); "
              "mean NLL ours %.6f libtorch %.6f\n",
              max_diff, max_logit, max_logit > 0 ? max_diff / max_logit : 0.0, ours->mean_nll,
              theirs.mean_nll);
  std::printf("%-8s %14s %14s %16s %18s %18s\n", "threads", "ours tok/s", "libtorch tok/s",
              "ours / libtorch", "CPU s ours/torch", "CPU ratio torch/ours");
  for (int threads : o.threads) {
    const double a = reporter.Median(Name("ours", threads));
    const double b = reporter.Median(Name("libtorch", threads));
    if (a <= 0 || b <= 0) continue;
    const double ca = reporter.MedianCounter(Name("ours", threads), "cpu_s");
    const double cb = reporter.MedianCounter(Name("libtorch", threads), "cpu_s");
    std::printf("%-8d %14.1f %14.1f %16.3f %8.2f / %-7.2f %18.3f%s\n", threads,
                o.tokens / (a / 1e3), o.tokens / (b / 1e3), b / a, ca, cb, ca > 0 ? cb / ca : 0.0,
                b / a >= 1.0 ? "" : "  (below target 1.0)");
  }
  return 0;
}

int RunQuant(const Options& o, const analysis::ActivationScanInput& in) {
  const model::Transformer& t = *in.transformer;
  const std::vector<int32_t> ids = TokenIds(o.tokens, t.config().vocab_size);
  std::vector<analysis::QuantEvalSpec> specs = {analysis::QuantEvalSpec{}};
  for (const std::string& name : o.quant_configs) {
    absl::StatusOr<analysis::QuantEvalSpec> s = analysis::ParseQuantConfig(name);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      return 2;
    }
    specs.push_back(*s);
  }
  std::string gemm;
  for (int threads : o.threads) {
    for (const analysis::QuantEvalSpec& spec : specs) {
      const std::string name = spec.IsFp32() ? "fp32" : spec.name;
      benchmark::RegisterBenchmark(
          Name("quant/" + name, threads).c_str(),
          [&, threads, spec](benchmark::State& s) {
            SetAllThreads(threads);
            const double cpu0 = ProcessCpuSeconds();
            for (auto _ : s) {
              absl::StatusOr<analysis::QuantForwardResult> r =
                  analysis::QuantizedForward(t, ids, spec);
              if (!r.ok()) {
                s.SkipWithError(std::string(r.status().message()).c_str());
                return;
              }
              if (!r->gemm.empty()) gemm = r->gemm;
              benchmark::DoNotOptimize(r->logits.data());
            }
            SetCounters(s, o.tokens, cpu0);
          })
          ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::ClearRegisteredBenchmarks();
  std::printf("\nQuantizedForward, %d tokens; sgemm %s; int8 gemm %s\n", o.tokens,
              quant::SgemmDescription().c_str(), gemm.empty() ? "-" : gemm.c_str());
  std::printf("%-8s %-12s %10s %10s %16s %16s\n", "threads", "config", "ms", "fp32 ms",
              "config / fp32", "CPU s ratio");
  for (int threads : o.threads) {
    const std::string f = Name("quant/fp32", threads);
    const double fp32 = reporter.Median(f), fp32_cpu = reporter.MedianCounter(f, "cpu_s");
    for (size_t i = 1; i < specs.size(); ++i) {
      const std::string n = Name("quant/" + specs[i].name, threads);
      const double ms = reporter.Median(n), cpu = reporter.MedianCounter(n, "cpu_s");
      if (ms <= 0 || fp32 <= 0) continue;
      std::printf("%-8d %-12s %10.0f %10.0f %16.3f %16.3f%s\n", threads, specs[i].name.c_str(),
                  ms, fp32, ms / fp32, fp32_cpu > 0 ? cpu / fp32_cpu : 0.0,
                  ms / fp32 <= 1.6 ? "" : "  (above target 1.6)");
    }
  }
  return 0;
}

struct ChildRss {
  double peak = -1.0;      // ru_maxrss of the child, bytes; < 0: the child failed
  double baseline = 0.0;   // its RSS when it started (the libraries this process has loaded)
};

// Resident set of this process now, bytes (/proc/self/statm).
double CurrentRssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0.0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// Peak RSS of a forked child running `run` (the parent's own peak does not count).
template <typename Fn>
ChildRss RunInChild(const Fn& run) {
  ChildRss r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const double baseline = CurrentRssBytes();
    if (write(fds[1], &baseline, sizeof(baseline)) != sizeof(baseline)) _exit(4);
    _exit(run() ? 0 : 3);
  }
  close(fds[1]);
  if (read(fds[0], &r.baseline, sizeof(r.baseline)) != sizeof(r.baseline)) r.baseline = 0.0;
  close(fds[0]);
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid) return r;  // this child's own usage
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return r;
  r.peak = ru.ru_maxrss * 1024.0;  // KiB on Linux
  return r;
}

int RunRss(const Options& o, const std::string& dir, const LlamaShape& s) {
  const std::vector<int32_t> ids = TokenIds(o.tokens, s.vocab);
  const int threads = o.threads.front();
  const ChildRss fp32 = RunInChild([&] {
    SetAllThreads(threads);
    absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
    return in.ok() && in->transformer->Forward(ids).ok();
  });
  ChildRss quantized;
  std::string quant_name;
  if (!o.quant_configs.empty()) {
    quant_name = o.quant_configs.front();
    quantized = RunInChild([&] {
      SetAllThreads(threads);
      absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
      absl::StatusOr<analysis::QuantEvalSpec> spec = analysis::ParseQuantConfig(quant_name);
      return in.ok() && spec.ok() && analysis::QuantizedForward(*in->transformer, ids, *spec).ok();
    });
  }
  if (fp32.peak < 0 || (!quant_name.empty() && quantized.peak < 0)) {
    std::fprintf(stderr, "rss child failed\n");
    return 1;
  }
  struct stat st;
  stat((dir + "/model.safetensors").c_str(), &st);
  const double mapped = static_cast<double>(st.st_size);
  const double layer_fp32 = 4.0 * s.LayerParams();
  const double T = o.tokens;
  // Activations: the residual stream and its intermediates ([T x d], [T x ffn]), score blocks
  // (~1M floats) and [H x T x T] to spare, logits [T x vocab] twice (the result and the
  // quantized path's copy) and the LM head block (4M floats) (weight_scan_benchmark's formula).
  const double activations =
      4.0 * (16.0 * T * s.d + 4.0 * T * s.ffn + 8.0 * s.heads * T * T + 2.0 * T * s.vocab +
             (1 << 22));
  const double target = mapped + 2 * layer_fp32 + activations;
  std::printf("\npeak RSS of one forward on %d tokens (%d thread(s)), forked child; the model's "
              "share is the peak less the child's RSS at start (loaded libraries: %.1f MB):\n",
              o.tokens, threads, fp32.baseline / 1e6);
  std::printf("  mapped checkpoint   %10.1f MB\n", mapped / 1e6);
  std::printf("  one layer in fp32   %10.1f MB\n", layer_fp32 / 1e6);
  std::printf("  activations (est.)  %10.1f MB\n", activations / 1e6);
  std::printf("  target              %10.1f MB   (mapped + 2 layers fp32 + activations)\n",
              target / 1e6);
  const auto row = [&](const std::string& what, const ChildRss& r) {
    const double model = r.peak - r.baseline;
    std::printf("  %-18s  peak %8.1f MB, less start %8.1f MB   / target = %.3f%s\n",
                what.c_str(), r.peak / 1e6, model / 1e6, model / target,
                model <= target ? "" : "  (above target)");
  };
  row("fp32 forward", fp32);
  if (!quant_name.empty()) row(quant_name + " forward", quantized);
  return 0;
}

bool ParseList(const std::string& text, std::vector<int>* out) {
  out->clear();
  for (absl::string_view p : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(p, &v) || v < 1) return false;
    out->push_back(v);
  }
  return !out->empty();
}

}  // namespace
}  // namespace sinkscope::bench

int main(int argc, char** argv) {
  namespace sb = sinkscope::bench;
  sb::Options o;
  std::vector<char*> rest = {argv[0]};
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const char* flag) -> const char* {
      const size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = value("--mode=")) {
      o.mode = v;
    } else if (const char* v = value("--shape=")) {
      o.shape = v;
    } else if (const char* v = value("--tokens=")) {
      ok = ok && absl::SimpleAtoi(v, &o.tokens) && o.tokens >= 2;
    } else if (const char* v = value("--layers=")) {
      ok = ok && absl::SimpleAtoi(v, &o.layers) && o.layers >= 1;
    } else if (const char* v = value("--threads=")) {
      ok = ok && sb::ParseList(v, &o.threads);
    } else if (const char* v = value("--quant_configs=")) {
      o.quant_configs = absl::StrSplit(v, ',', absl::SkipEmpty());
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!ok || (o.mode != "speed" && o.mode != "quant" && o.mode != "rss" && o.mode != "all") ||
      (o.shape != "qwen05b" && o.shape != "small")) {
    std::fprintf(stderr,
                 "usage: %s [--mode=speed|quant|rss|all] [--shape=qwen05b|small] [--tokens=N>=2] "
                 "[--layers=N] [--threads=1,2] [--quant_configs=w8a8,kv8,fp8] [benchmark flags]\n",
                 argv[0]);
    return 2;
  }
  int n = static_cast<int>(rest.size());
  if (!sb::InitializeBenchmarks(&n, rest.data(), {"--benchmark_repetitions=3"})) return 2;
  const sb::LlamaShape s = sb::ShapeOf(o);
  const std::string dir = sb::MakeTempDir();
  if (dir.empty()) return 1;
  std::printf("generating a %d-layer llama BF16 checkpoint (d %lld, ffn %lld, %lld/%lld heads, "
              "vocab %lld, %.2f GB) in %s\n",
              s.layers, static_cast<long long>(s.d), static_cast<long long>(s.ffn),
              static_cast<long long>(s.heads), static_cast<long long>(s.kv_heads),
              static_cast<long long>(s.vocab), 2.0 * s.Params() / 1e9, dir.c_str());
  int rc = sb::WriteLlama(dir, s) ? 0 : 1;
  if (rc == 0 && (o.mode == "rss" || o.mode == "all")) rc = sb::RunRss(o, dir, s);
  if (rc == 0 && o.mode != "rss") {
    absl::StatusOr<sinkscope::analysis::ActivationScanInput> in =
        sinkscope::analysis::OpenModel(dir);
    if (!in.ok()) {
      std::fprintf(stderr, "%s\n", std::string(in.status().message()).c_str());
      rc = 1;
    }
    if (rc == 0 && (o.mode == "speed" || o.mode == "all")) rc = sb::RunSpeed(o, *in);
    if (rc == 0 && (o.mode == "quant" || o.mode == "all")) rc = sb::RunQuant(o, *in);
  }
  sb::RemoveDir(dir);
  benchmark::Shutdown();
  return rc;
}
