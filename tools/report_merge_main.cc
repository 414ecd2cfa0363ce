// report_merge: merges shard reports (weight_scan, activation_scan or quant_eval) into one,
// through the mergeable statistics: the result equals the whole run. Never a partial merge: the
// inputs must be every shard of one run (same tool, checkpoint and configuration), each once;
// otherwise it exits 1 naming the missing or mismatched shards and writes nothing.
//
// Usage: report_merge SHARD... [--shards=N] [--out=merged.pb] [--json=merged.json]
//        report_merge --check [--shards=N] SHARD...   (validate only; writes nothing)
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "analysis/report_merge.h"
#include "base/cli.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "report/report_text.h"

ABSL_FLAG(int, shards, 0,
          "the inputs must be the shards of an N-way run (--shard=i/N); 0: N from the inputs");
ABSL_FLAG(bool, check, false,
          "validate only: every input readable and of one run, no shard twice (and, with "
          "--shards=N, shards of an N-way run); prints each input's shard, writes nothing. "
          "Without --check a merge also needs all N shards");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "report_merge";
  absl::SetProgramUsageMessage(
      "report_merge SHARD... [--shards=N] [--out=F.pb] [--json=F.json]\n"
      "  report_merge --check [--shards=N] SHARD...");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return sa::UsageError(kTool, "give at least one report to merge");
  const int expected = absl::GetFlag(FLAGS_shards);
  if (expected < 0) return sa::UsageError(kTool, "--shards must be >= 0");
  const bool check = absl::GetFlag(FLAGS_check);
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);

  // Read every input before judging any, so that one message names all unreadable shards and
  // which shard indices that leaves missing.
  std::vector<sinkscope::v1::Report> inputs;
  std::vector<std::string> names, unreadable;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::StatusOr<sinkscope::v1::Report> r = sa::ReadReport(args[i]);
    if (!r.ok()) {
      unreadable.push_back(absl::StrCat("'", args[i], "' (", r.status().message(), ")"));
      continue;
    }
    inputs.push_back(*std::move(r));
    names.push_back(args[i]);
  }
  if (!unreadable.empty()) {
    int count = expected;
    for (const sinkscope::v1::Report& r : inputs) {
      absl::StatusOr<std::optional<sa::ShardId>> s = sa::ShardOfReport(r);
      if (count == 0 && s.ok() && s->has_value()) count = (*s)->count;
    }
    std::string missing;
    if (count > 0) {
      missing = absl::StrCat("; shards missing: ",
                             absl::StrJoin(sa::MissingShards(inputs, count), ", "), " of ", count);
    }
    return sa::Fail(kTool, absl::InvalidArgumentError(absl::StrCat(
                               unreadable.size(), " of ", args.size() - 1,
                               " shard reports unreadable: ", absl::StrJoin(unreadable, "; "),
                               missing, "; nothing merged")));
  }

  sa::MergeOptions options;
  options.names = names;
  options.expected_shards = expected;
  if (check) {
    options.require_all_shards = false;
    if (absl::Status st = sa::CheckMergeInputs(inputs, options); !st.ok()) {
      return sa::Fail(kTool, st);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::optional<sa::ShardId> s = *sa::ShardOfReport(inputs[i]);
      std::cout << names[i] << ": " << inputs[i].provenance().tool() << " "
                << (s.has_value() ? absl::StrCat("shard ", s->index, "/", s->count)
                                  : std::string("whole run"))
                << " ok\n";
    }
    return 0;
  }
  absl::StatusOr<sinkscope::v1::Report> merged = sa::MergeReports(inputs, options);
  if (!merged.ok()) return sa::Fail(kTool, merged.status());
  sinkscope::v1::Provenance provenance = sa::MakeProvenance(
      kTool, argc, argv,
      {{"inputs", absl::StrJoin(names, ",")},
       {"merged_tool", inputs[0].provenance().tool()},
       {"shards", absl::StrCat(merged->provenance().shards_size())}});
  *provenance.mutable_shards() = merged->provenance().shards();
  *merged->mutable_provenance() = provenance;
  std::cout << sa::DescribeReport(*merged) << sa::DescribeShardRuns(merged->provenance());
  if (absl::Status st = sa::WriteReport(*merged, outputs); !st.ok()) return sa::Fail(kTool, st);
  return 0;
}
