// quant_demo: what massive activations cost int8, on a built-in tensor.
//
// Builds activations X [tokens x channels] ~ N(0, 1) with a few massive activations (token 0,
// two channels, ~1000x the median magnitude, as Sun et al. 2024 find in LLM residual streams)
// and Laplace weights W [channels x out], then for each pair of quantization schemes multiplies
// X W in int8 (oracle and oneDNN) and prints the error table, with and without the outliers.
//
// Usage: bazel run //tools:quant_demo [-- --tokens=256 --channels=1024 --out=1024 --seed=1]
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "quant/int8_gemm.h"
#include "quant/quantize.h"
#include "quant/quantized_matmul.h"

ABSL_FLAG(int, tokens, 256, "rows of X (tokens)");
ABSL_FLAG(int, channels, 1024, "columns of X = rows of W (hidden size)");
ABSL_FLAG(int, out, 1024, "columns of W");
ABSL_FLAG(double, outlier, 1500.0, "massive activation magnitude (median |x| is ~0.67)");
ABSL_FLAG(int, seed, 1, "random seed");

namespace sinkscope::quant {
namespace {

struct Demo {
  FloatMatrix x, x_clean, w;
};

Demo MakeTensors(int tokens, int channels, int out, double outlier, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::exponential_distribution<float> laplace_mag(1.0f / 0.02f);
  std::bernoulli_distribution sign(0.5);
  Demo d;
  d.x_clean.resize(tokens, channels);
  for (int64_t i = 0; i < d.x_clean.size(); ++i) d.x_clean.data()[i] = normal(rng);
  d.x = d.x_clean;
  // Massive activations: the sink token (0) in two fixed channels, as in Llama-2's 1415/2533.
  d.x(0, 7 % channels) = static_cast<float>(outlier);
  d.x(0, (channels * 2) / 3) = static_cast<float>(-0.6 * outlier);
  d.w.resize(channels, out);
  for (int64_t i = 0; i < d.w.size(); ++i) {
    d.w.data()[i] = (sign(rng) ? 1.0f : -1.0f) * laplace_mag(rng);
  }
  return d;
}

struct Row {
  const char* activations;
  QuantScheme a;
  const char* weights;
  QuantScheme b;
};

std::string Db(double v) {
  return std::isinf(v) ? std::string(v > 0 ? "exact" : "-inf") : absl::StrFormat("%.1f", v);
}

int Main() {
  const int tokens = absl::GetFlag(FLAGS_tokens);
  const int channels = absl::GetFlag(FLAGS_channels);
  const int out = absl::GetFlag(FLAGS_out);
  if (tokens < 1 || channels < 3 || out < 1 || tokens > 8192 || channels > 16384 || out > 16384) {
    std::cerr << "quant_demo: need 1 <= tokens <= 8192, 3 <= channels <= 16384, "
                 "1 <= out <= 16384\n";
    return 2;
  }
  const Demo d = MakeTensors(tokens, channels, out, absl::GetFlag(FLAGS_outlier),
                             static_cast<uint32_t>(absl::GetFlag(FLAGS_seed)));

  const std::vector<Row> rows = {
      {"int8 per-tensor sym", QuantScheme{}, "int8 per-tensor sym", QuantScheme{}},
      {"int8 per-tensor asym", QuantScheme{}.Asymmetric(), "int8 per-channel", QuantScheme::PerChannel(1)},
      {"int8 per-tensor p99.99", QuantScheme{}.WithPercentile(99.99), "int8 per-channel",
       QuantScheme::PerChannel(1)},
      {"int8 per-tensor mse-clip", QuantScheme{}.WithMseClip(), "int8 per-channel",
       QuantScheme::PerChannel(1)},
      {"int8 per-token sym", QuantScheme::PerToken(), "int8 per-channel", QuantScheme::PerChannel(1)},
      {"int8 per-token asym", QuantScheme::PerToken().Asymmetric(), "int8 per-channel",
       QuantScheme::PerChannel(1)},
      {"int8 per-group(128)", QuantScheme::PerGroup(1, 128), "int8 per-group(128)",
       QuantScheme::PerGroup(0, 128)},
      {"int8 per-token asym", QuantScheme::PerToken().Asymmetric(), "int4 per-group(128)",
       QuantScheme::PerGroup(0, 128).WithBits(4)},
      {"int4 per-token asym", QuantScheme::PerToken().Asymmetric().WithBits(4), "int4 per-channel",
       QuantScheme::PerChannel(1).WithBits(4)},
  };

  std::printf("sinkscope quant_demo: X [%d x %d] with 2 massive activations in token 0 "
              "(%.0f, %.0f), W [%d x %d] Laplace\n",
              tokens, channels, d.x(0, 7 % channels), d.x(0, (channels * 2) / 3), channels, out);
  std::printf("CPU ISA (oneDNN): %s, VNNI: %s, oneDNN %s\n\n", EffectiveCpuIsaName().c_str(),
              EffectiveIsaHasVnni() ? "yes" : "no", OnednnVersion().c_str());
  std::printf("%-26s %-22s %9s %9s %8s %10s %7s %6s %11s %10s\n", "activations X", "weights W",
              "SQNR dB", "clean dB", "cosine", "max|err|", "clipped", "exact", "unmitig dB",
              "pair-sat");
  std::string impl, mitigation = "none";
  for (const Row& r : rows) {
    absl::StatusOr<QuantizedMatmulResult> with = QuantizedMatmul(d.x, d.w, r.a, r.b);
    absl::StatusOr<QuantizedMatmulResult> clean =
        QuantizedMatmul(d.x_clean, d.w, r.a, r.b, QuantizedMatmulOptions{false, false});
    if (!with.ok() || !clean.ok()) {
      std::cerr << "quant_demo: " << (with.ok() ? clean.status() : with.status()) << "\n";
      return 1;
    }
    impl = with->impl;
    if (with->mitigation != Int8Mitigation::kNone) mitigation = MitigationName(with->mitigation);
    std::printf("%-26s %-22s %9s %9s %8.5f %10.3g %7lld %6s %11s %10lld\n", r.activations,
                r.weights, Db(with->onednn_error.sqnr_db).c_str(),
                Db(clean->onednn_error.sqnr_db).c_str(), with->onednn_error.cosine,
                with->onednn_error.max_abs_error,
                static_cast<long long>(with->clipped_a + with->clipped_b),
                with->bit_exact ? "yes" : "NO", Db(with->unmitigated_error.sqnr_db).c_str(),
                static_cast<long long>(with->saturations));
  }
  std::printf(
      "\nSQNR: int8 result vs the fp32 product (higher is better); clean: the same X without "
      "its massive activations.\nexact: oneDNN (%s, mitigation %s) equals the integer oracle bit "
      "for bit.\nunmitig: oneDNN without the mitigation; pair-sat: int16 pair saturations an "
      "AVX2/AVX-512 CPU without VNNI would hit.\n",
      impl.c_str(), mitigation.c_str());
  return 0;
}

}  // namespace
}  // namespace sinkscope::quant

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "quant_demo: int8 error of X W under each quantization scheme, X with massive activations");
  absl::ParseCommandLine(argc, argv);
  return sinkscope::quant::Main();
}
