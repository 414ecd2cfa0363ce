// File: analysis/report_merge.h
//
// report_merge.h: merges shard reports of one kind into one report, through the mergeable
// statistics (Moments, MagnitudeSketch, exact counts), so that merging shards equals scanning
// the whole up to floating-point rounding of the moments.
//   WeightReport:     tensors are united (a tensor in two shards is an error) and put back in
//                     checkpoint order; `total` is the merge of the shards' totals.
//   ActivationReport: per layer, hidden-state summaries merge; massive activations are pooled;
//                     per-head sink metrics are averaged weighted by num_sequences; the sink
//                     rate is recomputed.
//
// Example:
//   absl::StatusOr<sinkscope::v1::Report> all = MergeReports({shard0, shard1});
#ifndef SINKSCOPE_ANALYSIS_REPORT_MERGE_H_
#define SINKSCOPE_ANALYSIS_REPORT_MERGE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

// The result's provenance is the first input's; callers replace it with their own.
absl::StatusOr<sinkscope::v1::Report> MergeReports(
    const std::vector<sinkscope::v1::Report>& reports);

// Merges Summary messages through their mergeable state.
absl::StatusOr<sinkscope::v1::Summary> MergeSummaries(
    const std::vector<const sinkscope::v1::Summary*>& summaries);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_REPORT_MERGE_H_
