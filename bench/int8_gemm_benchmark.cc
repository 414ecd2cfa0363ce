// int8_gemm_benchmark: the library's int8 GEMM against the raw oneDNN int8 primitive, oneDNN
// f32 matmul and Eigen f32, one thread, at M=N=K in {256, 1024} and an attention-like shape
// (M=2048, K=64, N=2048). Prints Google Benchmark's table (GOPS counter), then the ratios of
// median times against the baselines measured in the same process.
//
// Usage: bazel run //bench:int8_gemm_benchmark
//        DNNL_MAX_CPU_ISA=AVX2 bazel run //bench:int8_gemm_benchmark   (a CPU without VNNI)
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "bench/median_reporter.h"
#include "benchmark/benchmark.h"
#include "quant/int8_gemm.h"
#include "quant/tensor.h"

namespace sinkscope::quant {
namespace {

struct GemmShape {
  int64_t m, k, n;
  std::string name;
};

const std::vector<GemmShape>& Shapes() {
  static const auto* shapes = new std::vector<GemmShape>{
      {256, 256, 256, "256x256x256"},
      {1024, 1024, 1024, "1024x1024x1024"},
      {2048, 64, 2048, "attn_2048x64x2048"},
  };
  return *shapes;
}

struct Operands {
  std::vector<uint8_t> a;  // u8 [M x K]
  std::vector<uint8_t> b;  // s8 [K x N]
  std::vector<float> b_scales;
  FloatMatrix af, bf;
};

Operands MakeOperands(const GemmShape& s) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  Operands o;
  o.a.resize(s.m * s.k);
  o.b.resize(s.k * s.n);
  for (auto& v : o.a) v = static_cast<uint8_t>(byte(rng));
  for (auto& v : o.b) v = static_cast<uint8_t>(byte(rng));
  o.b_scales.assign(s.n, 0.01f);
  o.af = FloatMatrix::Random(s.m, s.k);
  o.bf = FloatMatrix::Random(s.k, s.n);
  return o;
}

void SetOps(benchmark::State& state, const GemmShape& s) {
  state.counters["GOPS"] = benchmark::Counter(2.0 * s.m * s.n * s.k * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Library(benchmark::State& state, GemmShape s, Int8Mitigation mitigation, bool per_token) {
  Operands o = MakeOperands(s);
  GemmOperand a{{o.a.data(), Int8Type::kU8, s.m, s.k}, {{0.02f}, {128}}};
  if (per_token) {  // per-row scales and zero points: the int32 epilogue path
    a.quant.scales.assign(s.m, 0.02f);
    a.quant.zero_points.assign(s.m, 128);
  }
  GemmOperand b{{o.b.data(), Int8Type::kS8, s.k, s.n}, {o.b_scales, {0}}};
  auto gemm = Int8Gemm::Create(b, Int8GemmOptions{mitigation});
  if (!gemm.ok()) {
    state.SkipWithError(std::string(gemm.status().message()).c_str());
    return;
  }
  FloatMatrix c;
  for (auto _ : state) {
    if (!(*gemm)->Run(a, &c).ok()) state.SkipWithError("Run failed");
    benchmark::DoNotOptimize(c.data());
  }
  state.SetLabel((*gemm)->impl_name() + " mitigation=" + MitigationName((*gemm)->mitigation()));
  SetOps(state, s);
}

// One oneDNN matmul C (f32) = A B, built once and timed per execution.
void TimeOnednnMatmul(benchmark::State& state, const GemmShape& s, dnnl::memory::data_type a_type,
                      dnnl::memory::data_type b_type, const dnnl::primitive_attr& attr, void* a,
                      void* b) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  dnnl::memory::desc a_md({s.m, s.k}, a_type, tag::ab), b_md({s.k, s.n}, b_type, tag::ab),
      c_md({s.m, s.n}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, eng);
  dnnl::matmul mm(pd);
  std::vector<float> c(s.m * s.n);
  dnnl::memory am(a_md, eng, a), bm(b_md, eng, b), cm(c_md, eng, c.data());
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    strm.wait();
    benchmark::DoNotOptimize(c.data());
  }
  state.SetLabel(pd.impl_info_str());
  SetOps(state, s);
}

// What a user would write: u8 x s8 -> f32 with per-column output scales and a src zero point.
void BM_RawOnednnInt8(benchmark::State& state, GemmShape s) {
  Operands o = MakeOperands(s);
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, o.b_scales);
  attr.set_zero_points(DNNL_ARG_SRC, 0, {128});
  TimeOnednnMatmul(state, s, dnnl::memory::data_type::u8, dnnl::memory::data_type::s8, attr,
                   o.a.data(), o.b.data());
}

void BM_OnednnF32(benchmark::State& state, GemmShape s) {
  Operands o = MakeOperands(s);
  TimeOnednnMatmul(state, s, dnnl::memory::data_type::f32, dnnl::memory::data_type::f32,
                   dnnl::primitive_attr(), o.af.data(), o.bf.data());
}

void BM_EigenF32(benchmark::State& state, GemmShape s) {
  Operands o = MakeOperands(s);
  FloatMatrix c(s.m, s.n);
  for (auto _ : state) {
    c.noalias() = o.af * o.bf;
    benchmark::DoNotOptimize(c.data());
  }
  SetOps(state, s);
}


void Register() {
  for (const GemmShape& s : Shapes()) {
    benchmark::RegisterBenchmark(("int8_library/" + s.name).c_str(), BM_Library, s,
                                 Int8Mitigation::kAuto, false)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("int8_library_per_token/" + s.name).c_str(), BM_Library, s,
                                 Int8Mitigation::kAuto, true)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("int8_library_no_mitigation/" + s.name).c_str(), BM_Library, s,
                                 Int8Mitigation::kNone, false)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("int8_raw_onednn/" + s.name).c_str(), BM_RawOnednnInt8, s)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("f32_onednn/" + s.name).c_str(), BM_OnednnF32, s)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("f32_eigen/" + s.name).c_str(), BM_EigenF32, s)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
}

void PrintRatios(const bench::MedianReporter& r) {
  std::printf("\nISA %s (VNNI: %s), oneDNN %s, 1 thread. Speed ratios, time(baseline) / "
              "time(ours): >1 means ours is faster.\nlib: Int8Gemm, per-tensor activations; tok: "
              "per-token activations; nomit: without the mitigation.\n",
              EffectiveCpuIsaName().c_str(), EffectiveIsaHasVnni() ? "yes" : "no",
              OnednnVersion().c_str());
  std::printf("%-20s %13s %13s %13s %13s %13s\n", "shape", "lib/raw_int8", "tok/raw_int8",
              "nomit/raw", "lib/eigen_f32", "lib/dnnl_f32");
  const auto ratio = [&](const std::string& base, const std::string& lib, const std::string& s) {
    const double tb = r.Median(base + "/" + s), tl = r.Median(lib + "/" + s);
    return tl > 0.0 ? tb / tl : 0.0;
  };
  for (const GemmShape& s : Shapes()) {
    std::printf("%-20s %13.2f %13.2f %13.2f %13.2f %13.2f\n", s.name.c_str(),
                ratio("int8_raw_onednn", "int8_library", s.name),
                ratio("int8_raw_onednn", "int8_library_per_token", s.name),
                ratio("int8_raw_onednn", "int8_library_no_mitigation", s.name),
                ratio("f32_eigen", "int8_library", s.name),
                ratio("f32_onednn", "int8_library", s.name));
  }
}

}  // namespace
}  // namespace sinkscope::quant

int main(int argc, char** argv) {
  omp_set_num_threads(1);
  Eigen::setNbThreads(1);
  // 5 repetitions, interleaved with the other benchmarks' so that a slow spell of this shared
  // machine does not land on one of them only. Overridable on the command line.
  if (!sinkscope::bench::InitializeBenchmarks(
          &argc, argv,
          {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true"})) {
    return 2;
  }
  sinkscope::quant::Register();
  sinkscope::bench::MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  sinkscope::quant::PrintRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
