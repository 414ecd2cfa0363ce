// quant_eval: what a quantization configuration costs a checkpoint end to end. Runs the fp32
// forward pass and each configuration on every token file and reports, per configuration, the
// mean KL(p_fp32 || p_config), NLL and its change, top-1 agreement and the per-layer SQNR of the
// residual stream (analysis/quant_eval.h), sorted by KL in the text summary.
//
// Usage: quant_eval --checkpoint=DIR (--tokens=F1[,F2...] | --text=F1[,F2...] [--tokenizer=PATH])
//                   --configs=fp32,w8a8,kv4,...
//                   [--max_tokens=N] [--shard=i/n] [--calibration=F] [--threads=N] [--reference_int8]
//                   [--out=F.pb] [--json=F.json]
//                   [--textproto=F.txtpb] [--html=F.html]
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "analysis/quant_eval.h"
#include "analysis/token_inputs.h"
#include "analysis/weight_scan.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "quant/sgemm.h"
#include "report/html_report.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "report/report_text.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint directory (config.json + safetensors)");
ABSL_FLAG(std::string, tokens, "",
          "token-id files (integers separated by whitespace or commas), comma-separated: one "
          "sequence each");
ABSL_FLAG(std::string, configs, "fp32,w8a8,w8a8_tensor,kv8,kv4,w4a16_g128,fp8,kvfp8,mxfp4",
          "comma-separated quantization configurations, base[+remedy...]: bases fp32, w8a8, "
          "w8a8_tensor, w4a16_gN, fp8, mxfp4, kv8, kv4, kvfp8 and weight_kv joins; remedies "
          "+keep_sink[N], +smooth[A], +rotate, +llmint8, +clip");
ABSL_FLAG(int, max_tokens, 2048, "use at most this many ids of each file");
ABSL_FLAG(std::string, shard, "",
          "evaluate every n-th token file starting at i: i/n (report_merge joins the shards "
          "exactly: sums, not means)");
ABSL_FLAG(std::string, calibration, "",
          "+smooth: token-id files whose fp32 activations calibrate max |X_j| (default: the "
          "evaluated tokens)");
ABSL_FLAG(int, threads, 0,
          "threads of the fp32 GEMMs (OpenBLAS pool; 0: all cores); oneDNN's int8 GEMMs follow "
          "OMP_NUM_THREADS");
ABSL_FLAG(bool, reference_int8, false,
          "int8 products through the exact integer reference GEMM instead of oneDNN (slow; the "
          "results are bit-identical)");
ABSL_FLAG(std::string, html, "", "also write the report as a self-contained HTML page");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "quant_eval";
  absl::SetProgramUsageMessage(
      "quant_eval --checkpoint=DIR (--tokens=F1[,F2...] | --text=F1[,F2...]) --configs=fp32,w8a8,kv4,... "
      "[--max_tokens=N] [--out=F.pb] [--json=F.json] [--textproto=F.txtpb] [--html=F.html]");
  absl::ParseCommandLine(argc, argv);
  const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint);
  const std::string tokens = absl::GetFlag(FLAGS_tokens);
  if (checkpoint.empty()) return sa::UsageError(kTool, "--checkpoint is required");
  if (std::string p = sa::TokenFlagsProblem(tokens, /*required=*/true); !p.empty()) {
    return sa::UsageError(kTool, p);
  }
  const int max_tokens = absl::GetFlag(FLAGS_max_tokens);
  if (max_tokens < 2) return sa::UsageError(kTool, "--max_tokens must be >= 2");
  absl::StatusOr<std::vector<sa::QuantEvalSpec>> specs =
      sa::ParseQuantConfigs(absl::GetFlag(FLAGS_configs));
  if (!specs.ok()) return sa::UsageError(kTool, specs.status().message());
  int shard_index = 0, shard_count = 1;
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    if (absl::Status st = sa::ParseShard(absl::GetFlag(FLAGS_shard), &shard_index, &shard_count);
        !st.ok()) {
      return sa::UsageError(kTool, st.message());
    }
  }
  absl::StatusOr<sa::TokenInputs> inputs = sa::TokenInputs::FromFlags(tokens, checkpoint);
  if (!inputs.ok()) return sa::Fail(kTool, inputs.status());
  std::vector<size_t> shard_files;  // indices into inputs->files()
  for (size_t i = shard_index; i < inputs->files().size(); i += shard_count) shard_files.push_back(i);
  if (shard_files.empty()) return sa::UsageError(kTool, "the shard holds no token file");
  std::vector<std::string> files;
  for (size_t i : shard_files) files.push_back(inputs->files()[i]);
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::CheckWritable(html); !st.ok()) {
      return sa::Fail(kTool, st);
    }
  }

  absl::StatusOr<sa::ActivationScanInput> model = sa::OpenModel(checkpoint);
  if (!model.ok()) return sa::Fail(kTool, model.status());
  for (const sa::QuantEvalSpec& s : *specs) {
    if (absl::Status st = sa::CheckSpecForModel(s, model->transformer->config()); !st.ok()) {
      return sa::UsageError(kTool, st.message());
    }
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> sequences;
  for (size_t index : shard_files) {
    const std::string& f = inputs->files()[index];
    absl::StatusOr<std::vector<int32_t>> ids = inputs->Read(index);
    if (!ids.ok()) return sa::Fail(kTool, ids.status());
    if (static_cast<int>(ids->size()) > max_tokens) ids->resize(max_tokens);
    inputs->NoteUsed(index, static_cast<int64_t>(ids->size()));
    const int64_t vocab = model->transformer->config().vocab_size;
    for (size_t i = 0; i < ids->size(); ++i) {
      if ((*ids)[i] < 0 || (*ids)[i] >= vocab) {
        return sa::Fail(kTool, absl::InvalidArgumentError(absl::StrCat(
                                   f, ": token ", i, " is ", (*ids)[i], ", outside the vocabulary [0, ",
                                   vocab, ")")));
      }
    }
    if (ids->size() < 2) {
      return sa::Fail(kTool, absl::InvalidArgumentError(
                                 absl::StrCat(f, ": ", ids->size(), " tokens; at least 2 needed")));
    }
    sequences.push_back(*std::move(ids));
  }
  std::cerr << kTool << ": " << sequences.size() << " token file(s) x " << specs->size()
            << " configuration(s) through " << model->transformer->config().num_layers
            << " layers\n";
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 0) return sa::UsageError(kTool, "--threads must be >= 0");
  if (threads > 0) sinkscope::quant::SetSgemmThreads(threads);
  sa::QuantEvalOptions options;
  options.reference_int8_gemm = absl::GetFlag(FLAGS_reference_int8);
  const std::string calibration = absl::GetFlag(FLAGS_calibration);
  if (!calibration.empty()) {
    for (absl::string_view f : absl::StrSplit(calibration, ',', absl::SkipEmpty())) {
      absl::StatusOr<std::vector<int32_t>> ids = sa::ReadTokenIds(std::string(f));
      if (!ids.ok()) return sa::Fail(kTool, ids.status());
      if (static_cast<int>(ids->size()) > max_tokens) ids->resize(max_tokens);
      options.calibration.push_back(*std::move(ids));
    }
    options.calibration_name = calibration;
  }
  absl::StatusOr<sinkscope::v1::QuantEvalReport> r =
      sa::EvaluateQuantConfigs(*model->transformer, sequences, *specs, options);
  if (!r.ok()) return sa::Fail(kTool, r.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r->set_checkpoint(checkpoint);
  for (const std::string& f : files) r->add_token_files(f);
  sinkscope::v1::Report report;
  *report.mutable_quant_eval_report() = *std::move(r);
  std::map<std::string, std::string> config = inputs->ConfigEntries();
  config.insert(
      {{"checkpoint", checkpoint},
       {"configs", absl::GetFlag(FLAGS_configs)},
       {"max_tokens", absl::StrCat(max_tokens)},
       {"shard", absl::GetFlag(FLAGS_shard)},
       {"calibration", calibration},
       {"model", model->transformer->config().ToString()}});
  *report.mutable_provenance() = sa::MakeProvenance(kTool, argc, argv, config);
  inputs->Record(report.mutable_provenance());
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    sinkscope::v1::ShardRun* run =
        sa::AddShardRun(report.mutable_provenance(), shard_index, shard_count, seconds);
    run->set_token_files(static_cast<int64_t>(sequences.size()));
    int64_t tokens_run = 0;
    for (const std::vector<int32_t>& ids : sequences) tokens_run += static_cast<int64_t>(ids.size());
    run->set_tokens(tokens_run);
  }
  for (const auto& c : report.quant_eval_report().configs()) {
    if (c.gemm().empty()) continue;
    const std::vector<std::string> parts = absl::StrSplit(c.gemm(), absl::MaxSplits(' ', 1));
    report.mutable_provenance()->set_int8_gemm_impl(parts[0]);
    if (parts.size() > 1) report.mutable_provenance()->set_int8_mitigation(parts[1]);
  }
  std::cout << sa::DescribeReport(report);
  if (absl::Status st = sa::WriteReport(report, outputs); !st.ok()) return sa::Fail(kTool, st);
  if (!html.empty()) {
    if (absl::Status st =
            sinkscope::model::WriteFileAtomically(html, sa::RenderHtmlReport(report));
        !st.ok()) {
      return sa::Fail(kTool, st);
    }
  }
  return 0;
}
