// weight_scan: statistics, outlier profiles and quantization error of every tensor of a
// checkpoint (a .safetensors file, a model.safetensors.index.json or a directory).
//
// Usage: weight_scan --checkpoint=PATH [--filter=GLOB] [--schemes=tensor,channel]
//                    [--threads=N] [--shard=i/n] [--out=scan.pb] [--json=scan.json]
//                    [--textproto=scan.txtpb] [--top_k=10]
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "analysis/weight_scan.h"
#include "base/cli.h"
#include "model/checkpoint.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "report/report_text.h"

ABSL_FLAG(std::string, checkpoint, "",
          "a .safetensors file, a model.safetensors.index.json, or a directory holding either");
ABSL_FLAG(std::string, shard, "",
          "scan shard i of n: i/n (the selected tensors split into n shards balanced by bytes; "
          "report_merge joins them)");
ABSL_FLAG(int, top_k, 10, "top channels, tokens and entries listed per tensor");
ABSL_FLAG(std::string, filter, "",
          "GLOB over tensor names ('*' any run, '?' one char, whole name; comma-separated "
          "globs match any), e.g. '*.mlp.*,*self_attn.sinks'; empty: all");
ABSL_FLAG(std::string, schemes, "tensor,channel",
          "weight quantization schemes (symmetric min-max): tensor, channel (per row), "
          "tensor4, channel4 (4-bit)");
ABSL_FLAG(int, threads, 1, "tensors scanned in parallel");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "weight_scan";
  absl::SetProgramUsageMessage(
      "weight_scan --checkpoint=FILE|INDEX|DIR [--filter=GLOB] [--schemes=tensor,channel] "
      "[--threads=N] [--shard=i/n] [--out=F.pb] [--json=F.json]");
  absl::ParseCommandLine(argc, argv);
  const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint);
  if (checkpoint.empty()) return sa::UsageError(kTool, "--checkpoint is required");
  sa::WeightScanOptions options;
  options.top_k = absl::GetFlag(FLAGS_top_k);
  if (options.top_k < 0 || options.top_k > 10000) {
    return sa::UsageError(kTool, "--top_k must be in 0..10000");
  }
  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.threads < 1 || options.threads > 1024) {
    return sa::UsageError(kTool, "--threads must be in 1..1024");
  }
  options.filter = absl::GetFlag(FLAGS_filter);
  const std::string schemes = absl::GetFlag(FLAGS_schemes);
  if (absl::Status st = sa::ParseWeightQuantSchemes(schemes, &options.schemes); !st.ok()) {
    return sa::UsageError(kTool, st.message());
  }
  const std::string shard = absl::GetFlag(FLAGS_shard);
  if (!shard.empty()) {
    if (absl::Status st = sa::ParseShard(shard, &options.shard_index, &options.shard_count);
        !st.ok()) {
      return sa::UsageError(kTool, st.message());
    }
  }
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);

  absl::StatusOr<std::unique_ptr<sinkscope::model::Checkpoint>> ckpt =
      sinkscope::model::Checkpoint::Open(checkpoint);
  if (!ckpt.ok()) return sa::Fail(kTool, ckpt.status());

  constexpr uint64_t kProgressAboveBytes = 1000ull * 1000 * 1000;
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  if ((*ckpt)->total_bytes() > kProgressAboveBytes) {
    options.progress = [&](const sa::WeightScanProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(2) && p.tensors_done != p.tensors_total) return;
      last = now;
      const double s = std::chrono::duration<double>(now - start).count();
      std::cerr << absl::StrFormat("%s: %d/%d tensors, %.2f/%.2f GB, %.2f GB/s, %s\n", kTool,
                                   p.tensors_done, p.tensors_total, p.bytes_done / 1e9,
                                   p.bytes_total / 1e9, s > 0 ? p.bytes_done / 1e9 / s : 0.0,
                                   p.last_tensor);
    };
  }
  absl::StatusOr<sinkscope::v1::WeightReport> scan = sa::ScanWeights(**ckpt, options);
  if (!scan.ok()) return sa::Fail(kTool, scan.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string sink_table = sa::FormatAttentionSinks(sa::AttentionSinks(**ckpt, *scan));
  sinkscope::v1::Report report;
  *report.mutable_provenance() =
      sa::MakeProvenance(kTool, argc, argv,
                         {{"checkpoint", checkpoint},
                          {"shard", shard},
                          {"filter", options.filter},
                          {"schemes", schemes},
                          {"threads", std::to_string(options.threads)},
                          {"top_k", std::to_string(options.top_k)}});
  if (!shard.empty()) {
    sinkscope::v1::ShardRun* run = sa::AddShardRun(
        report.mutable_provenance(), options.shard_index, options.shard_count, seconds);
    run->set_tensors(scan->tensors_size());
    run->set_bytes(scan->scanned_bytes());
  }
  *report.mutable_weight_report() = *std::move(scan);
  std::cout << sa::DescribeReport(report) << sink_table;
  if (absl::Status st = sa::WriteReport(report, outputs); !st.ok()) return sa::Fail(kTool, st);
  return 0;
}
