// weight_scan_benchmark: issue 6's throughput and memory targets, as ratios against baselines
// measured in the same process.
//
//   weight_scan: generates a llama-like BF16 checkpoint (TinyLlama shapes: d = 2048, ffn = 5632,
//     GQA 32/4 heads, vocab 32000, as many layers as fit the size; N(0, 0.02) values with a few
//     outlier input channels x40) into a temp dir once, then times ScanWeights with 1 and 2
//     threads against a memory-bound floor: a pass that reads every BF16 value of the mapped
//     file and sums them (1 and 2 threads). Prints GB/s of wall time and of process CPU time
//     (getrusage: user + system of every thread, so that a loaded machine's waits do not count)
//     and scan / floor ratios. Target: >= 1 GB/s per thread.
//   activation_rss (--mode=rss): generates a llama checkpoint of a few wide layers (d = 4096,
//     ffn = 14336, 32/8 heads), runs OpenModel + ScanActivations on 16 tokens in a forked
//     child and reports the child's peak RSS (ru_maxrss) against the mapped size and the target
//     mapped size + two layers in fp32 + activations.
//   report (--mode=report): the cost of writing the report (issue 13): a Qwen2.5-0.5B-shaped BF16
//     checkpoint (24 layers, d 896, ffn 4864, 14/2 heads, vocab 151,936; ~1 GB) scanned with 2
//     threads, then the report written as binary (.pb), as JSON through report_json.h (what
//     --json writes) and as JSON through protobuf's MessageToJsonString (the previous writer),
//     each atomically to a file, scan included: ratios JSON run / pb run (target <= 1.3).
// Size: --size_mb=N (or SINKSCOPE_BENCH_SIZE_MB), default 2000 (not for --mode=report); the
// temp dir is deleted at exit.
// --kernels=NAME scans with that kernel table (avx512, avx2, baseline; default: the widest this
// CPU runs); the table's name is printed with the results.
//
// Usage: weight_scan_benchmark [--mode=scan|rss|report|all] [--size_mb=200] [--kernels=avx2]
//                              [benchmark flags]
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "analysis/activation_scan.h"
#include "analysis/scan_kernels.h"
#include "analysis/weight_scan.h"
#include "base/atomic_file.h"
#include "bench/llama_checkpoint.h"
#include "bench/median_reporter.h"
#include "benchmark/benchmark.h"
#include "model/checkpoint.h"
#include "model/dtype.h"
#include "report/report_io.h"

namespace sinkscope::bench {
namespace {

// The memory-bound floor: every BF16 value of every tensor read and summed (threads split the
// tensors like the scan does: a shared counter over tensors).
double SumAll(const model::Checkpoint& c, int threads) {
  std::vector<double> partial(threads, 0.0);
  std::atomic<size_t> next{0};
  const auto work = [&](int w) {
    double total = 0.0;
    for (size_t i = next++; i < c.tensors().size(); i = next++) {
      const model::TypedTensorView v = c.View(c.tensors()[i]);
      const int64_t n = v.size();
      float acc[16] = {};
      int64_t j = 0;
      for (; j + 16 <= n; j += 16) {
        for (int k = 0; k < 16; ++k) {
          uint16_t h;
          std::memcpy(&h, v.data + 2 * (j + k), 2);
          acc[k] += model::Bf16ToFloat(h);
        }
      }
      for (; j < n; ++j) total += model::LoadAsDouble(v.data, v.dtype, j);
      for (float a : acc) total += a;
    }
    partial[w] = total;
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

const model::Checkpoint* g_checkpoint = nullptr;
std::string g_kernels;  // WeightScanOptions::kernels

// User + system CPU seconds of this process (all threads) so far.
double ProcessCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void BM_Floor(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(SumAll(*g_checkpoint, threads));
  state.counters["cpu_s"] = (ProcessCpuSeconds() - cpu0) / state.iterations();
  state.SetBytesProcessed(state.iterations() * g_checkpoint->total_bytes());
}

void BM_WeightScan(benchmark::State& state) {
  analysis::WeightScanOptions o;
  o.threads = static_cast<int>(state.range(0));
  o.kernels = g_kernels;
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    absl::StatusOr<sinkscope::v1::WeightReport> r = analysis::ScanWeights(*g_checkpoint, o);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(r->total().count());
  }
  state.counters["cpu_s"] = (ProcessCpuSeconds() - cpu0) / state.iterations();
  state.SetBytesProcessed(state.iterations() * g_checkpoint->total_bytes());
}

int RunScan(int argc, char** argv, uint64_t bytes) {
  const std::string dir = MakeTempDir();
  if (dir.empty()) return 1;
  const LlamaShape shape = Fit(LlamaShape{}, bytes);
  std::printf("generating %d-layer llama BF16 checkpoint (%.2f GB) in %s\n", shape.layers,
              2.0 * shape.Params() / 1e9, dir.c_str());
  if (!WriteLlama(dir, shape)) {
    RemoveDir(dir);
    return 1;
  }
  int rc = 0;
  {
    absl::StatusOr<std::unique_ptr<model::Checkpoint>> c = model::Checkpoint::Open(dir);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", std::string(c.status().message()).c_str());
      RemoveDir(dir);
      return 1;
    }
    g_checkpoint = c->get();
    SumAll(**c, 1);  // page the file in once
    if (!InitializeBenchmarks(&argc, argv, {"--benchmark_repetitions=3"})) {
      rc = 2;
    } else {
      for (int t : {1, 2}) {
        benchmark::RegisterBenchmark(absl::StrCat("floor/threads:", t).c_str(), BM_Floor)
            ->Arg(t)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
        benchmark::RegisterBenchmark(absl::StrCat("weight_scan/threads:", t).c_str(),
                                     BM_WeightScan)
            ->Arg(t)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
      }
      MedianReporter reporter;
      benchmark::RunSpecifiedBenchmarks(&reporter);
      const double gb = (*c)->total_bytes() / 1e9;
      std::printf("\nweight_scan kernels: %s\n",
                  g_kernels.empty() ? analysis::internal::ScanKernelsForCpu().name
                                    : g_kernels.c_str());
      // Wall: GB / elapsed seconds. CPU: GB / process CPU seconds (all threads), i.e. the
      // throughput of one busy thread whatever else the machine runs.
      std::printf("\n%-8s %10s %10s %11s %11s %11s %11s %16s\n", "threads", "scan GB/s",
                  "floor GB/s", "scan/floor", "scan CPU", "floor CPU", "CPU ratio",
                  "wall GB/s/thread");
      std::printf("%-8s %10s %10s %11s %11s %11s %11s %16s\n", "", "(wall)", "(wall)", "(wall)",
                  "GB/CPU-s", "GB/CPU-s", "scan/floor", "");
      for (int t : {1, 2}) {
        const std::string scan_name = absl::StrCat("weight_scan/threads:", t);
        const std::string floor_name = absl::StrCat("floor/threads:", t);
        const double scan_ms = reporter.Median(scan_name);
        const double floor_ms = reporter.Median(floor_name);
        const double scan_cpu_s = reporter.MedianCounter(scan_name, "cpu_s");
        const double floor_cpu_s = reporter.MedianCounter(floor_name, "cpu_s");
        if (scan_ms <= 0 || floor_ms <= 0 || scan_cpu_s <= 0 || floor_cpu_s <= 0) continue;
        const double scan = gb / (scan_ms / 1e3), floor = gb / (floor_ms / 1e3);
        const double scan_cpu = gb / scan_cpu_s, floor_cpu = gb / floor_cpu_s;
        std::printf("%-8d %10.3f %10.3f %11.3f %11.3f %11.3f %11.3f %16.3f%s\n", t, scan, floor,
                    scan / floor, scan_cpu, floor_cpu, scan_cpu / floor_cpu, scan / t,
                    scan_cpu >= 1.0 ? "" : "  (target >= 1 GB/s per thread)");
      }
    }
    g_checkpoint = nullptr;
  }
  RemoveDir(dir);
  return rc;
}

// One scan (2 threads) and the report written one way: 0 binary, 1 JSON (report_io, i.e.
// report_json.h), 2 JSON through protobuf's util printer (the writer before issue 13).
std::string g_report_dir;

void BM_ScanAndWrite(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  analysis::WeightScanOptions o;
  o.threads = 2;
  o.kernels = g_kernels;
  int64_t bytes_written = 0;
  for (auto _ : state) {
    absl::StatusOr<sinkscope::v1::WeightReport> r = analysis::ScanWeights(*g_checkpoint, o);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    sinkscope::v1::Report report;
    *report.mutable_weight_report() = *std::move(r);
    std::string bytes;
    if (kind == 0) {
      report.SerializeToString(&bytes);
    } else if (kind == 1) {
      absl::StatusOr<std::string> j = analysis::ReportToJson(report);
      if (!j.ok()) {
        state.SkipWithError(std::string(j.status().message()).c_str());
        return;
      }
      bytes = *std::move(j);
    } else {
      google::protobuf::util::JsonPrintOptions p;
      p.add_whitespace = true;
      p.preserve_proto_field_names = true;
      p.always_print_primitive_fields = true;
      if (!google::protobuf::util::MessageToJsonString(report, &bytes, p).ok()) {
        state.SkipWithError("MessageToJsonString failed");
        return;
      }
    }
    const std::string path = absl::StrCat(g_report_dir, "/report.", kind);
    if (absl::Status st = model::WriteFileAtomically(path, bytes); !st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
    bytes_written = static_cast<int64_t>(bytes.size());
  }
  state.counters["file_MB"] = bytes_written / 1e6;
}

int RunReport(int argc, char** argv) {
  const std::string dir = MakeTempDir();
  if (dir.empty()) return 1;
  const LlamaShape s = Qwen05bShape();
  std::printf("generating a Qwen2.5-0.5B-shaped BF16 checkpoint (%.2f GB) in %s\n",
              2.0 * s.Params() / 1e9, dir.c_str());
  if (!WriteLlama(dir, s)) {
    RemoveDir(dir);
    return 1;
  }
  int rc = 0;
  {
    absl::StatusOr<std::unique_ptr<model::Checkpoint>> c = model::Checkpoint::Open(dir);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", std::string(c.status().message()).c_str());
      RemoveDir(dir);
      return 1;
    }
    g_checkpoint = c->get();
    g_report_dir = dir;
    SumAll(**c, 1);  // page the file in once
    if (!InitializeBenchmarks(&argc, argv, {"--benchmark_repetitions=5"})) {
      rc = 2;
    } else {
      const char* names[] = {"scan+pb", "scan+json", "scan+json_protobuf_util"};
      for (int kind = 0; kind < 3; ++kind) {
        benchmark::RegisterBenchmark(names[kind], BM_ScanAndWrite)
            ->Arg(kind)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
      }
      MedianReporter reporter;
      benchmark::RunSpecifiedBenchmarks(&reporter);
      const double pb = reporter.Median(names[0]), json = reporter.Median(names[1]),
                   util = reporter.Median(names[2]);
      if (pb > 0) {
        std::printf("\nreport cost (medians): pb run %.0f ms, json run %.0f ms, protobuf util "
                    "json run %.0f ms\nratio json / pb %.3f (target <= 1.3), protobuf util "
                    "json / pb %.3f\n",
                    pb, json, util, json / pb, util / pb);
      }
    }
    g_checkpoint = nullptr;
  }
  for (int kind = 0; kind < 3; ++kind) std::remove(absl::StrCat(dir, "/report.", kind).c_str());
  RemoveDir(dir);
  return rc;
}

int RunRss(uint64_t bytes) {
  const std::string dir = MakeTempDir();
  if (dir.empty()) return 1;
  LlamaShape s;
  s.d = 4096;
  s.ffn = 14336;
  s.heads = 32;
  s.kv_heads = 8;
  s.head_dim = 128;
  s = Fit(s, bytes);
  if (bytes < 1000ull * 1000 * 1000) {  // quick runs: narrower layers
    s.d = 1024;
    s.ffn = 3584;
    s.heads = 16;
    s.kv_heads = 4;
    s.head_dim = 64;
    s = Fit(s, bytes);
  }
  std::printf("generating %d-layer llama BF16 checkpoint (d %lld, ffn %lld, %.2f GB) in %s\n",
              s.layers, static_cast<long long>(s.d), static_cast<long long>(s.ffn),
              2.0 * s.Params() / 1e9, dir.c_str());
  if (!WriteLlama(dir, s)) {
    RemoveDir(dir);
    return 1;
  }
  constexpr int kTokens = 16;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
    if (!in.ok()) _exit(3);
    std::vector<int32_t> ids;
    for (int i = 0; i < kTokens; ++i) ids.push_back((i * 7919 + 1) % static_cast<int>(s.vocab));
    absl::StatusOr<sinkscope::v1::ActivationReport> r = analysis::ScanActivations(*in, ids);
    _exit(r.ok() ? 0 : 4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  struct stat st;
  stat((dir + "/model.safetensors").c_str(), &st);
  RemoveDir(dir);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "activation scan child failed (status %d)\n", status);
    return 1;
  }
  const double peak = ru.ru_maxrss * 1024.0;  // KiB on Linux
  const double mapped = static_cast<double>(st.st_size);
  const double layer_fp32 = 4.0 * s.LayerParams();
  // Activations: the residual stream and its intermediates ([T x d], [T x ffn]), probabilities
  // [H x T x T], logits [T x vocab] and the LM head block (4M floats), with room to spare.
  const double activations =
      4.0 * (16.0 * kTokens * s.d + 4.0 * kTokens * s.ffn + 8.0 * s.heads * kTokens * kTokens +
             2.0 * kTokens * s.vocab + (1 << 22));
  const double target = mapped + 2 * layer_fp32 + activations;
  std::printf("\nactivation_scan peak RSS on %d tokens:\n", kTokens);
  std::printf("  peak RSS            %10.1f MB\n", peak / 1e6);
  std::printf("  mapped checkpoint   %10.1f MB   peak / mapped = %.3f\n", mapped / 1e6,
              peak / mapped);
  std::printf("  one layer in fp32   %10.1f MB\n", layer_fp32 / 1e6);
  std::printf("  target              %10.1f MB   peak / target = %.3f%s\n", target / 1e6,
              peak / target, peak <= target ? "" : "  (above target)");
  std::printf("  (peak - mapped) / one fp32 layer = %.2f\n", (peak - mapped) / layer_fp32);
  return 0;
}

}  // namespace
}  // namespace sinkscope::bench

int main(int argc, char** argv) {
  // Our flags first; the rest go to Google Benchmark.
  std::string mode = "scan";
  uint64_t size_mb = 2000;
  if (const char* e = std::getenv("SINKSCOPE_BENCH_SIZE_MB")) size_mb = std::strtoull(e, nullptr, 10);
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--size_mb=", 0) == 0) {
      size_mb = std::strtoull(a.c_str() + 10, nullptr, 10);
    } else if (a.rfind("--kernels=", 0) == 0) {
      sinkscope::bench::g_kernels = a.substr(10);
    } else if (a.rfind("--mode=", 0) == 0) {
      mode = a.substr(7);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (size_mb < 10 ||
      (mode != "scan" && mode != "rss" && mode != "report" && mode != "all")) {
    std::fprintf(stderr,
                 "usage: %s [--mode=scan|rss|report|all] [--size_mb=N>=10] [benchmark flags]\n",
                 argv[0]);
    return 2;
  }
  int n = static_cast<int>(rest.size());
  const uint64_t bytes = size_mb * 1000 * 1000;
  int rc = 0;
  if (mode == "scan" || mode == "all") rc = sinkscope::bench::RunScan(n, rest.data(), bytes);
  if (rc == 0 && (mode == "rss" || mode == "all")) rc = sinkscope::bench::RunRss(bytes);
  if (rc == 0 && (mode == "report" || mode == "all")) {
    rc = sinkscope::bench::RunReport(n, rest.data());
  }
  return rc;
}
