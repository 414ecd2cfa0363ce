// weight_scan: statistics, outlier profiles and int8 error of every tensor of a checkpoint.
//
// Usage: weight_scan --checkpoint=model.safetensors [--shard=i/n] [--out=scan.pb]
//                    [--json=scan.json] [--textproto=scan.txtpb] [--top_k=10]
#include <chrono>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "analysis/cli.h"
#include "analysis/provenance.h"
#include "analysis/report_flags.h"
#include "analysis/report_io.h"
#include "analysis/report_text.h"
#include "analysis/weight_scan.h"

ABSL_FLAG(std::string, checkpoint, "", "the .safetensors file to scan");
ABSL_FLAG(std::string, shard, "", "scan every n-th tensor starting at i: i/n (for report_merge)");
ABSL_FLAG(int, top_k, 10, "top channels, tokens and entries listed per tensor");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "weight_scan";
  absl::SetProgramUsageMessage(
      "weight_scan --checkpoint=FILE.safetensors [--shard=i/n] [--out=F.pb] [--json=F.json]");
  absl::ParseCommandLine(argc, argv);
  const std::string checkpoint = absl::GetFlag(FLAGS_checkpoint);
  if (checkpoint.empty()) return sa::UsageError(kTool, "--checkpoint is required");
  sa::WeightScanOptions options;
  options.top_k = absl::GetFlag(FLAGS_top_k);
  if (options.top_k < 0 || options.top_k > 10000) {
    return sa::UsageError(kTool, "--top_k must be in 0..10000");
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

  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  options.progress = [&](int i, int n, const std::string& name) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last > std::chrono::seconds(2)) {
      std::cerr << kTool << ": tensor " << i + 1 << "/" << n << " " << name << "\n";
      last = now;
    }
  };
  absl::StatusOr<sinkscope::v1::WeightReport> scan = sa::ScanWeights(checkpoint, options);
  if (!scan.ok()) return sa::Fail(kTool, scan.status());
  sinkscope::v1::Report report;
  *report.mutable_provenance() =
      sa::MakeProvenance(kTool, argc, argv,
                         {{"checkpoint", checkpoint},
                          {"shard", shard},
                          {"top_k", std::to_string(options.top_k)}});
  *report.mutable_weight_report() = *std::move(scan);
  std::cout << sa::DescribeReport(report);
  if (absl::Status st = sa::WriteReport(report, outputs); !st.ok()) return sa::Fail(kTool, st);
  return 0;
}
