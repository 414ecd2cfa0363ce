// File: bench/median_reporter.h
//
// median_reporter.h: what every sinkscope benchmark shares: Google Benchmark's console table plus
// the median time (and user counters) of each benchmark over its repetitions (this machine is
// shared: single runs vary by 10-25 %), for the ratio tables the benchmarks print; and
// initialisation with default flags that the command line can override.
//
// Example:
//   if (!InitializeBenchmarks(&argc, argv, {"--benchmark_repetitions=5"})) return 2;
//   MedianReporter reporter;
//   benchmark::RunSpecifiedBenchmarks(&reporter);
//   double ratio = reporter.Median("baseline/x") / reporter.Median("ours/x");
#ifndef SINKSCOPE_BENCH_MEDIAN_REPORTER_H_
#define SINKSCOPE_BENCH_MEDIAN_REPORTER_H_

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace sinkscope::bench {

class MedianReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        seconds_[r.run_name.function_name].push_back(r.GetAdjustedRealTime());
        for (const auto& [counter, value] : r.counters) {
          counters_[r.run_name.function_name + "#" + counter].push_back(value.value);
        }
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Median real time (in the benchmark's unit) of `name` (without the /real_time etc. suffixes);
  // 0 when it did not run.
  double Median(const std::string& name) const { return MedianOf(seconds_, name); }

  // Median over the repetitions of the user counter `counter` (state.counters) of `name`; 0 when
  // it did not run.
  double MedianCounter(const std::string& name, const std::string& counter) const {
    return MedianOf(counters_, name + "#" + counter);
  }

 private:
  static double MedianOf(const std::map<std::string, std::vector<double>>& m,
                         const std::string& key) {
    auto it = m.find(key);
    if (it == m.end() || it->second.empty()) return 0.0;
    std::vector<double> t = it->second;
    std::sort(t.begin(), t.end());
    return t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
  }

  std::map<std::string, std::vector<double>> seconds_;
  std::map<std::string, std::vector<double>> counters_;
};

// benchmark::Initialize with `defaults` placed before the user's flags (which win). False on
// unrecognised arguments (the caller exits 2).
inline bool InitializeBenchmarks(int* argc, char** argv, std::vector<std::string> defaults) {
  static std::vector<std::string> storage;
  storage = std::move(defaults);
  std::vector<char*> args = {argv[0]};
  for (std::string& d : storage) args.push_back(d.data());
  for (int i = 1; i < *argc; ++i) args.push_back(argv[i]);
  static std::vector<char*> kept;
  kept = args;
  int n = static_cast<int>(kept.size());
  benchmark::Initialize(&n, kept.data());
  return !benchmark::ReportUnrecognizedArguments(n, kept.data());
}

}  // namespace sinkscope::bench

#endif  // SINKSCOPE_BENCH_MEDIAN_REPORTER_H_
