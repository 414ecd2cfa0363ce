// report_merge: merges shard reports (weight or activation scans) into one, through the
// mergeable statistics: the result equals scanning the whole.
//
// Usage: report_merge SHARD1 SHARD2 ... [--out=merged.pb] [--json=merged.json]
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "base/cli.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "analysis/report_merge.h"
#include "report/report_text.h"

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "report_merge";
  absl::SetProgramUsageMessage("report_merge SHARD... [--out=F.pb] [--json=F.json]");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return sa::UsageError(kTool, "give at least one report to merge");
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);
  std::vector<sinkscope::v1::Report> inputs;
  std::vector<std::string> names;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::StatusOr<sinkscope::v1::Report> r = sa::ReadReport(args[i]);
    if (!r.ok()) return sa::Fail(kTool, r.status());
    inputs.push_back(*std::move(r));
    names.push_back(args[i]);
  }
  absl::StatusOr<sinkscope::v1::Report> merged = sa::MergeReports(inputs);
  if (!merged.ok()) return sa::Fail(kTool, merged.status());
  *merged->mutable_provenance() =
      sa::MakeProvenance(kTool, argc, argv, {{"inputs", absl::StrJoin(names, ",")}});
  std::cout << sa::DescribeReport(*merged);
  if (absl::Status st = sa::WriteReport(*merged, outputs); !st.ok()) return sa::Fail(kTool, st);
  return 0;
}
