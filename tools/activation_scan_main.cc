// activation_scan: runs a checkpoint's forward pass on token ids and reports, per layer, the
// hidden-state statistics, massive activations, per-head sink metrics and the int8 error of each
// attention layer replayed on its real input; plus the mean next-token NLL of the ids.
//
// Usage: activation_scan --checkpoint=DIR (--tokens=FILE[,FILE...] | --text=FILE[,FILE...]
//        [--tokenizer=PATH] [--add_special_tokens=false]) [--max_tokens=N]
//        [--shard=i/n] [--abs_threshold=100] [--ratio_threshold=1000] [--sink_epsilon=0.3]
//        [--no_int8] [--out=F.pb] [--json=F.json] [--textproto=F.txtpb] [--html=F.html]
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
#include "analysis/token_inputs.h"
#include "analysis/weight_scan.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/html_report.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "analysis/report_merge.h"
#include "report/report_text.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint directory (config.json + safetensors)");
ABSL_FLAG(std::string, tokens, "", "token-id files (integers separated by whitespace or commas), comma-separated list: one sequence each");
ABSL_FLAG(int, max_tokens, 2048, "use at most this many ids of each file");
ABSL_FLAG(std::string, shard, "", "scan every n-th token file starting at i: i/n (for report_merge)");
ABSL_FLAG(double, abs_threshold, 100.0, "massive activation: |x| above this");
ABSL_FLAG(double, ratio_threshold, 1000.0, "massive activation: |x| at least this times median |h|");
ABSL_FLAG(double, sink_epsilon, 0.3, "Sink_1^eps threshold on first-token mass");
ABSL_FLAG(bool, int8, true, "replay each attention layer in int8 (keep_sink_kv_fp32 0, 1, 4)");
ABSL_FLAG(std::string, html, "", "also write the report as a self-contained HTML page");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "activation_scan";
  absl::SetProgramUsageMessage(
      "activation_scan --checkpoint=DIR (--tokens=FILE[,FILE...] | --text=FILE[,FILE...] "
      "[--tokenizer=PATH]) [--max_tokens=N] [--out=F.pb]");
  absl::ParseCommandLine(argc, argv);
  const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint);
  const std::string tokens = absl::GetFlag(FLAGS_tokens);
  if (checkpoint.empty()) return sa::UsageError(kTool, "--checkpoint is required");
  if (std::string p = sa::TokenFlagsProblem(tokens, /*required=*/true); !p.empty()) {
    return sa::UsageError(kTool, p);
  }
  const int max_tokens = absl::GetFlag(FLAGS_max_tokens);
  if (max_tokens < 1) return sa::UsageError(kTool, "--max_tokens must be >= 1");
  const double eps = absl::GetFlag(FLAGS_sink_epsilon);
  if (!(eps > 0.0 && eps < 1.0)) return sa::UsageError(kTool, "--sink_epsilon must be in (0, 1)");
  int shard_index = 0, shard_count = 1;
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    if (absl::Status st = sa::ParseShard(absl::GetFlag(FLAGS_shard), &shard_index, &shard_count);
        !st.ok()) {
      return sa::UsageError(kTool, st.message());
    }
  }
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::CheckWritable(html); !st.ok()) return sa::Fail(kTool, st);
  }

  absl::StatusOr<sa::TokenInputs> inputs = sa::TokenInputs::FromFlags(tokens, checkpoint);
  if (!inputs.ok()) return sa::Fail(kTool, inputs.status());
  const std::vector<std::string>& files = inputs->files();
  absl::StatusOr<sa::ActivationScanInput> model = sa::OpenModel(checkpoint);
  if (!model.ok()) return sa::Fail(kTool, model.status());
  sa::ActivationScanOptions options;
  options.massive.abs_threshold = absl::GetFlag(FLAGS_abs_threshold);
  options.massive.ratio_threshold = absl::GetFlag(FLAGS_ratio_threshold);
  options.sink_epsilon = eps;
  options.int8 = absl::GetFlag(FLAGS_int8);
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens_run = 0;
  std::vector<sinkscope::v1::Report> per_file;
  for (size_t i = shard_index; i < files.size(); i += shard_count) {
    absl::StatusOr<std::vector<int32_t>> ids = inputs->Read(i);
    if (!ids.ok()) return sa::Fail(kTool, ids.status());
    if (static_cast<int>(ids->size()) > max_tokens) ids->resize(max_tokens);
    inputs->NoteUsed(i, static_cast<int64_t>(ids->size()));
    tokens_run += static_cast<int64_t>(ids->size());
    std::cerr << kTool << ": " << files[i] << ": " << ids->size() << " tokens through "
              << model->transformer->config().num_layers << " layers\n";
    absl::StatusOr<sinkscope::v1::ActivationReport> r = sa::ScanActivations(*model, *ids, options);
    if (!r.ok()) return sa::Fail(kTool, absl::Status(r.status().code(), absl::StrCat(files[i], ": ", r.status().message())));
    sinkscope::v1::Report one;
    *one.mutable_activation_report() = *std::move(r);
    per_file.push_back(std::move(one));
  }
  if (per_file.empty()) return sa::UsageError(kTool, "the shard holds no token file");
  absl::StatusOr<sinkscope::v1::Report> report =
      per_file.size() == 1 ? absl::StatusOr<sinkscope::v1::Report>(per_file[0])
                           : sa::MergeReports(per_file);
  if (!report.ok()) return sa::Fail(kTool, report.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::map<std::string, std::string> config = inputs->ConfigEntries();
  config.insert(
      {{"checkpoint", checkpoint},
       {"shard", absl::GetFlag(FLAGS_shard)},
       {"max_tokens", absl::StrCat(max_tokens)},
       {"abs_threshold", absl::StrCat(options.massive.abs_threshold)},
       {"ratio_threshold", absl::StrCat(options.massive.ratio_threshold)},
       {"sink_epsilon", absl::StrCat(eps)},
       {"int8", options.int8 ? "true" : "false"},
       {"model", model->transformer->config().ToString()}});
  *report->mutable_provenance() = sa::MakeProvenance(kTool, argc, argv, config);
  inputs->Record(report->mutable_provenance());
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    sinkscope::v1::ShardRun* run =
        sa::AddShardRun(report->mutable_provenance(), shard_index, shard_count, seconds);
    run->set_token_files(static_cast<int64_t>(per_file.size()));
    run->set_tokens(tokens_run);
  }
  std::cout << sa::DescribeReport(*report);
  std::cout << "mean next-token NLL: " << report->activation_report().mean_nll() << " nats over "
            << report->activation_report().num_predicted() << " tokens\n";
  if (absl::Status st = sa::WriteReport(*report, outputs); !st.ok()) return sa::Fail(kTool, st);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::WriteFileAtomically(html, sa::RenderHtmlReport(*report));
        !st.ok()) {
      return sa::Fail(kTool, st);
    }
  }
  return 0;
}
