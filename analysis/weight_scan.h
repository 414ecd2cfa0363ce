// File: analysis/weight_scan.h
//
// weight_scan.h: the weight scan of a checkpoint (a .safetensors file, a sharded index or a
// directory; model/checkpoint.h): per tensor its name, shape, dtype, Summary, outlier profile
// (rank >= 2, rows x columns as tokens x channels) and the quantization error under the chosen
// symmetric min-max schemes (per tensor, or per channel = one scale per row, axis 0: the output
// rows of an nn.Linear [out, in] weight; 8 or 4 bits), all streamed in chunks from the
// memory-mapped shards in their own dtype. A name filter (glob) selects tensors first; a shard
// (i, n) then scans the selected tensors AssignShardsBySize gives shard i (balanced by bytes, so
// a few huge MoE expert tensors do not land on one machine); merging the shards' reports
// (analysis/report_merge.h) equals scanning the whole. Each TensorReport carries its `index`
// among the selected tensors and the report its `scanned_bytes`. Tensors are scanned by
// `threads` workers over a shared queue (largest first); the report is in checkpoint order and
// identical for any count.
// `tensors_in_checkpoint` counts the tensors passing the filter (all of them without one).
//
// GPT-OSS sink logits (tensors named "...self_attn.sinks", shape [num_heads]) are scanned like
// any tensor, and their per-head values go into WeightReport.sink_logits (layer, head, value);
// AttentionSinks() reads them for the text table.
//
// Example:
//   WeightScanOptions o;
//   o.shard_index = 1; o.shard_count = 4; o.threads = 8; o.filter = "*mlp*";
//   absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights("/models/llama", o);
#ifndef SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_
#define SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/tensor_summary.h"
#include "model/checkpoint.h"
#include "model/dtype.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

// The weight quantization schemes of the scan (symmetric min-max), by flag name.
enum class WeightQuantScheme {
  kTensor8,   // "tensor": one int8 scale per tensor
  kChannel8,  // "channel": one int8 scale per row (rank >= 2 only)
  kTensor4,   // "tensor4"
  kChannel4,  // "channel4"
};

struct WeightScanProgress {
  int tensors_done = 0;
  int tensors_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  std::string last_tensor;
};

struct WeightScanOptions {
  int shard_index = 0;
  int shard_count = 1;
  int top_k = 10;
  bool quant_errors = true;
  // Glob over tensor names ('*' any run, '?' one character), whole name; several patterns
  // separated by commas match any. Empty: all tensors.
  std::string filter;
  std::vector<WeightQuantScheme> schemes = {WeightQuantScheme::kTensor8,
                                            WeightQuantScheme::kChannel8};
  int threads = 1;
  // The kernel table of the fused BF16/F16 scan by name ("avx512", "avx2", "baseline"); empty:
  // the widest this CPU runs. All give the same report (tested); an unknown name is an error.
  std::string kernels;
  SummaryOptions summary;
  // Called after each tensor, one call at a time (from the worker threads); may be empty.
  std::function<void(const WeightScanProgress&)> progress;
};

absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const std::string& checkpoint,
                                                        const WeightScanOptions& options = {});
absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const model::Checkpoint& checkpoint,
                                                        const WeightScanOptions& options = {});

// "i/n" with 0 <= i < n.
absl::Status ParseShard(absl::string_view text, int* index, int* count);

// Balanced shards: greedy longest-processing-time assignment of items (tensors, by bytes) to
// `count` shards: items by decreasing size (ties: lower index first) each go to the shard with
// the fewest bytes so far (ties: lower shard index). Deterministic; any two shards' totals differ
// by at most the largest item. Returns, per shard, its item indices in increasing order (every
// item in exactly one shard; a shard may be empty when there are fewer items than shards).
std::vector<std::vector<size_t>> AssignShardsBySize(const std::vector<uint64_t>& sizes,
                                                    int count);

// "tensor,channel4" -> {kTensor8, kChannel4}; unknown or repeated names are errors.
absl::Status ParseWeightQuantSchemes(absl::string_view text,
                                     std::vector<WeightQuantScheme>* schemes);

// Whole-name glob match: '*' any run (also empty), '?' one character; `pattern` may hold
// several globs separated by commas (any matches). An empty pattern matches everything.
bool GlobMatch(absl::string_view pattern, absl::string_view name);

// The layer index in names such as "model.layers.12.mlp.up_proj.weight" or "transformer.h.3.attn",
// or -1.
int LayerIndexFromName(absl::string_view name);

// int8 symmetric min-max error of `view` quantized per tensor (per_row = false) or with one
// scale per row of [rows x last axis] (per_row = true), streamed. Non-finite elements are skipped.
sinkscope::v1::QuantError StreamingQuantError(const model::TypedTensorView& view, bool per_row,
                                              int bits = 8);

// GPT-OSS attention sink logits: rank-1 tensors whose names end in "self_attn.sinks".
bool IsAttentionSinkTensor(absl::string_view name, const std::vector<int64_t>& shape);
struct AttentionSinkValues {
  std::string name;
  int layer = -1;
  std::vector<double> values;  // one per head
};
// The sink tensors of `checkpoint` that `report` scanned, in report order.
std::vector<AttentionSinkValues> AttentionSinks(const model::Checkpoint& checkpoint,
                                                const sinkscope::v1::WeightReport& report);
// A per-layer table of the heads' sink logits; "" when there are none.
std::string FormatAttentionSinks(const std::vector<AttentionSinkValues>& sinks);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_WEIGHT_SCAN_H_
