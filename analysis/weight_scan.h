// File: analysis/weight_scan.h
//
// weight_scan.h: the weight scan of a checkpoint: per tensor its name, shape, dtype, Summary,
// outlier profile (rank >= 2, rows x columns as tokens x channels) and int8 error under
// per-tensor and per-channel (axis 0: the output rows of an nn.Linear [out, in] weight)
// symmetric min-max quantization, all streamed in chunks from the memory-mapped file in its
// own dtype. A shard (i, n) scans every n-th tensor (data order) starting at i; merging the
// shards' reports (report_merge.h) equals scanning the whole.
//
// Example:
//   WeightScanOptions o;
//   o.shard_index = 1; o.shard_count = 4;
//   absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights("model.safetensors", o);
#ifndef SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_
#define SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/tensor_summary.h"
#include "model/dtype.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct WeightScanOptions {
  int shard_index = 0;
  int shard_count = 1;
  int top_k = 10;
  bool quant_errors = true;
  SummaryOptions summary;
  // Called before each tensor (index among scanned, total scanned, name); may be empty.
  std::function<void(int, int, const std::string&)> progress;
};

absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const std::string& checkpoint,
                                                        const WeightScanOptions& options = {});

// "i/n" with 0 <= i < n.
absl::Status ParseShard(absl::string_view text, int* index, int* count);

// The layer index in names such as "model.layers.12.mlp.up_proj.weight" or "transformer.h.3.attn",
// or -1.
int LayerIndexFromName(absl::string_view name);

// int8 symmetric min-max error of `view` quantized per tensor (per_row = false) or with one
// scale per row of [rows x last axis] (per_row = true), streamed. Non-finite elements are skipped.
sinkscope::v1::QuantError StreamingQuantError(const model::TypedTensorView& view, bool per_row,
                                              int bits = 8);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_
