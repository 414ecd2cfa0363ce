// File: analysis/report_merge.h
//
// report_merge.h: merges shard reports of one kind into one report, through the mergeable
// statistics (Moments, MagnitudeSketch, exact counts), so that merging shards equals scanning
// the whole.
//   WeightReport:     tensors are united (a tensor in two shards is an error) and put back in
//                     checkpoint order (TensorReport.index); `total` merges the tensors'
//                     summaries in that order, as the whole scan does: bit-identical to it.
//   ActivationReport: per layer, hidden-state summaries merge; massive activations are pooled;
//                     per-head sink metrics are averaged weighted by num_sequences; the sink
//                     rate is recomputed.
//
// Never a partial merge. Inputs that are shards (WeightReport.shard, Provenance.shards or the
// "shard" config entry: i/n) must be all n shards of one n-way run, each once; inputs from
// different tools, sinkscope versions, git commits (when both are known), checkpoints or
// configurations (provenance config other than "shard" and "threads") are an error naming the
// mismatch and the inputs. The merged provenance carries every shard's ShardRun, in shard order.
//
// Example:
//   absl::StatusOr<sinkscope::v1::Report> all = MergeReports({shard0, shard1});
#ifndef SINKSCOPE_ANALYSIS_REPORT_MERGE_H_
#define SINKSCOPE_ANALYSIS_REPORT_MERGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct MergeOptions {
  // The inputs' names in messages (file names); empty: "input 0", "input 1", ...
  std::vector<std::string> names;
  // > 0: the inputs must be shards of an n-way run with n = expected_shards.
  int expected_shards = 0;
  // false: the inputs may be a subset of the shards (CheckMergeInputs for one finished shard).
  bool require_all_shards = true;
};

// Which shard of an n-way run a report is.
struct ShardId {
  int index = 0;
  int count = 1;
};
// From WeightReport.shard, else the provenance's one ShardRun, else its "shard" config entry;
// nullopt for a report of a whole run; an error when they are malformed or disagree.
absl::StatusOr<std::optional<ShardId>> ShardOfReport(const sinkscope::v1::Report& report);

// The shard indices 0..count-1 none of `reports` is.
std::vector<int> MissingShards(const std::vector<sinkscope::v1::Report>& reports, int count);

// What MergeReports checks before merging: one kind, one run (tool, version, commit, config),
// the shard bookkeeping (see above), without merging anything.
absl::Status CheckMergeInputs(const std::vector<sinkscope::v1::Report>& reports,
                              const MergeOptions& options = {});

// The result's provenance is the first input's with `shards` = every input's ShardRun (shard
// order); callers replace the rest with their own.
absl::StatusOr<sinkscope::v1::Report> MergeReports(
    const std::vector<sinkscope::v1::Report>& reports, const MergeOptions& options = {});

// Merges Summary messages through their mergeable state.
absl::StatusOr<sinkscope::v1::Summary> MergeSummaries(
    const std::vector<const sinkscope::v1::Summary*>& summaries);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_REPORT_MERGE_H_
