// attention_replay: replays one attention layer dumped from a training framework on a dumped
// input, in fp32 (and int8), and writes the outputs, each head's sink mass and a report.
//
// Usage: attention_replay --layer=LAYER.safetensors --input=INPUT.safetensors
//                         --output=OUT.safetensors [--int8] [--keep_sink_kv_fp32=N]
//                         [--p_scheme=per_row|fixed|fp32]
//                         [--json=REPORT.json] [--out=REPORT.pb] [--textproto=REPORT.txtpb]
// File formats: analysis/attention_replay.h.
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "analysis/attention_replay.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"

ABSL_FLAG(std::string, layer, "", "the layer's .safetensors (weights and __metadata__)");
ABSL_FLAG(std::string, input, "", "the input .safetensors (tensor 'hidden' [T, d_model])");
ABSL_FLAG(std::string, output, "", "where to write output, output_int8 and sink_mass (F32)");
ABSL_FLAG(bool, int8, false, "also run the int8 layer and report its per-stage errors");
// A string so that a bad value is a usage error (exit 2), not absl's exit 1.
ABSL_FLAG(std::string, keep_sink_kv_fp32, "0",
          "int8: the first N keys (sink tokens / KV-bias slot first) keep fp32 K and V (N >= 0)");
ABSL_FLAG(std::string, p_scheme, "per_row",
          "int8: P's quantization before P V: per_row (one scale per query row), fixed (static "
          "1/255), fp32 (P V in fp32 against the quantized V)");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "attention_replay";
  absl::SetProgramUsageMessage(
      "attention_replay --layer=LAYER.safetensors --input=INPUT.safetensors "
      "--output=OUT.safetensors [--int8] [--keep_sink_kv_fp32=N] [--p_scheme=per_row|fixed|fp32] "
      "[--json=F.json] [--out=F.pb] "
      "[--textproto=F.txtpb]");
  absl::ParseCommandLine(argc, argv);
  const std::string layer = absl::GetFlag(FLAGS_layer);
  const std::string input = absl::GetFlag(FLAGS_input);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (layer.empty()) return sa::UsageError(kTool, "--layer is required");
  if (input.empty()) return sa::UsageError(kTool, "--input is required");
  if (output.empty()) return sa::UsageError(kTool, "--output is required");
  sa::ReplayOptions options;
  options.int8 = absl::GetFlag(FLAGS_int8);
  const std::string keep = absl::GetFlag(FLAGS_keep_sink_kv_fp32);
  if (!absl::SimpleAtoi(keep, &options.keep_sink_kv_fp32) || options.keep_sink_kv_fp32 < 0) {
    return sa::UsageError(kTool, "--keep_sink_kv_fp32 must be an integer >= 0, got '" + keep + "'");
  }
  if (options.keep_sink_kv_fp32 > 0 && !options.int8) {
    return sa::UsageError(kTool, "--keep_sink_kv_fp32 needs --int8");
  }
  const std::string p_scheme = absl::GetFlag(FLAGS_p_scheme);
  absl::StatusOr<sinkscope::attention::ProbScheme> scheme =
      sinkscope::attention::ParseProbScheme(p_scheme);
  if (!scheme.ok()) return sa::UsageError(kTool, "--p_scheme: " + std::string(scheme.status().message()));
  options.p_scheme = *scheme;
  if (options.p_scheme != sinkscope::attention::ProbScheme::kPerRow && !options.int8) {
    return sa::UsageError(kTool, "--p_scheme needs --int8");
  }
  const sa::ReportOutputs reports = sa::ReportOutputsFromFlags();
  if (absl::Status st = sinkscope::model::CheckWritable(output); !st.ok()) {
    return sa::Fail(kTool, st);
  }
  if (absl::Status st = sa::CheckReportOutputs(reports); !st.ok()) return sa::Fail(kTool, st);

  absl::StatusOr<sa::ReplayResult> result = sa::ReplayAttentionFiles(layer, input, options);
  if (!result.ok()) return sa::Fail(kTool, result.status());
  if (absl::Status st = sa::WriteReplayOutputs(output, *result); !st.ok()) {
    return sa::Fail(kTool, st);
  }
  const sinkscope::v1::ActivationReport& ar = result->report;
  std::cout << kTool << ": " << result->config.at("spec") << ", " << ar.num_tokens()
            << " tokens; sink rate " << ar.sink_rate() << " %";
  for (const sinkscope::v1::QuantError& e : ar.layers(0).quant_errors()) {
    if (e.name() == "output") std::cout << "; int8 output SQNR " << e.sqnr_db() << " dB";
  }
  std::cout << "\n";
  if (reports.empty()) return 0;
  sinkscope::v1::Report report;
  std::map<std::string, std::string> config = result->config;
  config["output"] = output;
  *report.mutable_provenance() = sa::MakeProvenance(kTool, argc, argv, config);
  report.mutable_provenance()->set_int8_gemm_impl(result->int8_gemm_impl);
  report.mutable_provenance()->set_int8_mitigation(result->int8_mitigation);
  *report.mutable_activation_report() = std::move(result->report);
  if (absl::Status st = sa::WriteReport(report, reports); !st.ok()) return sa::Fail(kTool, st);
  return 0;
}
