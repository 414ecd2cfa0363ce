// scan_kernels_benchmark: the weight scan's row kernels (analysis/scan_kernels.h) one by one, for
// every kernel table this CPU runs, on rows of a llama-like BF16 weight (5632 columns of
// N(0, 0.02) with two outlier columns x40, 64 MB: past the caches, like a real tensor). Prints
// GB/s of BF16 input (2 bytes per element) per kernel and table, so that a change to one kernel
// shows up apart from the rest of the scan (weight_scan_benchmark times the whole scan).
//
// Usage: scan_kernels_benchmark [benchmark flags]
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analysis/scan_kernels.h"
#include "benchmark/benchmark.h"
#include "model/dtype.h"
#include "quant/calibration.h"
#include "quant/quant_scheme.h"

namespace sinkscope::bench {
namespace {

constexpr int64_t kCols = 5632;
constexpr int64_t kRows = (int64_t{64} << 20) / (2 * kCols);

const std::vector<uint16_t>& Weights() {
  static const std::vector<uint16_t>* w = [] {
    auto* v = new std::vector<uint16_t>(kRows * kCols);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (int64_t i = 0; i < kRows * kCols; ++i) {
      const int64_t c = i % kCols;
      const float scale = (c == 17 || c == kCols / 3) ? 40.0f : 1.0f;
      (*v)[i] = model::FloatToBf16(scale * normal(rng));
    }
    return v;
  }();
  return *w;
}

const uint8_t* Row(int64_t r) {
  return reinterpret_cast<const uint8_t*>(Weights().data()) + 2 * (r % kRows) * kCols;
}

void Finish(benchmark::State& state, const analysis::internal::ScanKernels& k) {
  state.SetBytesProcessed(state.iterations() * 2 * kCols);
  state.SetLabel(k.name);
}

// Widening + histogram + flags: what the fused scan does first with each row.
void BM_ConvertCountBf16(benchmark::State& state, const analysis::internal::ScanKernels* k) {
  std::vector<float> row(kCols);
  std::vector<uint32_t> hist(1 << 16);
  int64_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(k->convert_count_bf16(Row(r++), kCols, row.data(), hist.data()));
  }
  Finish(state, *k);
}

// The row in float (already converted) through the outlier profile.
void BM_ProfileRow(benchmark::State& state, const analysis::internal::ScanKernels* k) {
  std::vector<float> row(kCols), ch_max(kCols), ch_sq(kCols);
  std::vector<uint32_t> hist(1 << 16);
  k->convert_count_bf16(Row(0), kCols, row.data(), hist.data());
  for (auto _ : state) {
    benchmark::DoNotOptimize(k->profile_row(row.data(), kCols, ch_max.data(), ch_sq.data()));
    std::fill(ch_sq.begin(), ch_sq.end(), 0.0f);  // keep the sums small
  }
  Finish(state, *k);
}

// The per-row int8 error of a converted row.
void BM_GroupErrorSums(benchmark::State& state, const analysis::internal::ScanKernels* k) {
  std::vector<float> row(kCols);
  std::vector<uint32_t> hist(1 << 16);
  k->convert_count_bf16(Row(0), kCols, row.data(), hist.data());
  float lo = 0, hi = 0;
  k->row_range(row.data(), kCols, &lo, &hi);
  const quant::QuantScheme scheme = quant::QuantScheme::PerChannel(0);
  const quant::ScaleAndZeroPoint p = quant::CalibrateMinMax(lo, hi, scheme);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k->group_error_sums(row.data(), kCols, std::max(-lo, hi), p,
                                                 scheme.qmin(), scheme.qmax()));
  }
  Finish(state, *k);
}

}  // namespace
}  // namespace sinkscope::bench

int main(int argc, char** argv) {
  using namespace sinkscope;
  bench::Weights();  // generated before the clock starts
  for (const analysis::internal::ScanKernels* k : analysis::internal::SupportedScanKernels()) {
    benchmark::RegisterBenchmark(absl::StrCat("convert_count_bf16/", k->name).c_str(),
                                 bench::BM_ConvertCountBf16, k);
    benchmark::RegisterBenchmark(absl::StrCat("profile_row/", k->name).c_str(),
                                 bench::BM_ProfileRow, k);
    benchmark::RegisterBenchmark(absl::StrCat("group_error_sums/", k->name).c_str(),
                                 bench::BM_GroupErrorSums, k);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
