// File: analysis/tensor_summary.h
//
// tensor_summary.h: the `Summary` of a tensor (moments, quantiles of |x|, outlier counts) from
// a mergeable accumulator that reads float, bf16 or fp16 data in chunks (never a whole float
// copy), and the per-channel / per-token outlier profile of a [tokens x channels] tensor.
//
//   median_abs, p99_abs, p999_abs, p9999_abs: from MagnitudeSketch (relative error <= alpha);
//   count_above_k_sigma: elements with |x| > |mean| + k std (a subset of |x - mean| > k std,
//     the same set when the mean is ~0), counted on the sketch so that it merges exactly;
//   llm_int8_count: |x| >= threshold (6.0, Dettmers et al. 2022), exact.
// Non-finite elements are counted in nonfinite_count and left out of everything else.
//
// Example:
//   SummaryBuilder b;
//   b.Add(view);                      // model::TypedTensorView, any float dtype
//   sinkscope::v1::Summary s = b.ToProto();
//   sinkscope::v1::OutlierProfile p = ProfileOutliers(view, /*top_k=*/10);
#ifndef SINKSCOPE_ANALYSIS_TENSOR_SUMMARY_H_
#define SINKSCOPE_ANALYSIS_TENSOR_SUMMARY_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/magnitude_sketch.h"
#include "analysis/running_stats.h"
#include "model/dtype.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

namespace internal {
struct ScanKernels;  // scan_kernels.h
}  // namespace internal

struct SummaryOptions {
  double k_sigma = 6.0;
  double llm_int8_threshold = 6.0;
  double relative_accuracy = MagnitudeSketch::kDefaultRelativeAccuracy;
};

class SummaryBuilder {
 public:
  explicit SummaryBuilder(SummaryOptions options = {});

  void Add(const float* x, int64_t n);
  void Add(const model::TypedTensorView& view);
  // Adds values[j] counts[j] times (any values: non-finite ones are counted apart), e.g. the
  // histogram of a bf16 / fp16 tensor's 65536 bit patterns. Equals Add() of the expanded values
  // up to the rounding of the moments (summed per distinct value, not in element order).
  void AddCounts(const float* values, const uint64_t* counts, int64_t n);
  // Errors when the options differ.
  absl::Status Merge(const SummaryBuilder& other);

  const RunningStats& stats() const { return stats_; }
  const MagnitudeSketch& sketch() const { return sketch_; }
  sinkscope::v1::Summary ToProto() const;
  // Rebuilds the accumulator from a Summary's mergeable state (moments, sketch, exact counts).
  static absl::StatusOr<SummaryBuilder> FromProto(const sinkscope::v1::Summary& summary);

 private:
  SummaryOptions options_;
  RunningStats stats_;
  MagnitudeSketch sketch_;
  int64_t llm_int8_count_ = 0;
  int64_t nonfinite_ = 0;
};

sinkscope::v1::Summary Summarize(const model::TypedTensorView& view, SummaryOptions options = {});

// Per-channel (column) and per-token (row) abs-max and rms of a [tokens x channels] tensor, the
// top_k channels and tokens by abs-max, and the top_k entries by |x| with their coordinates.
// Rank-1 tensors are one token; higher ranks are [product of leading axes, last axis].
sinkscope::v1::OutlierProfile ProfileOutliers(const model::TypedTensorView& view, int top_k = 10);

// ProfileOutliers fed piece by piece (what it runs on; a fused scan feeds it rows it has already
// converted). Pieces are parts of rows in row-major order; the result is the same for any split.
class OutlierProfiler {
 public:
  OutlierProfiler(int64_t rows, int64_t cols, int top_k);
  // Elements [col0, col0 + n) of row `row`, n <= cols - col0; non-finite values are skipped.
  void Add(int64_t row, int64_t col0, const float* x, int64_t n);

  // What AddExactSquareRow learnt about the row (its quantization error reuses it).
  struct RowStats {
    float lo = 0.0f, hi = 0.0f, abs_max = 0.0f;
    double sum_sq = 0.0;  // sum x^2 (double, each square exact)
  };
  // The fused weight scan's rows: all `cols` values of row `row`, finite, each square exact in
  // float (bf16 with 2^-63 <= |x| < 2^61 or zero, any fp16: internal::kRowExtreme clear), through
  // `kernels`. The per-channel sums of squares take float partial sums over blocks of up to
  // kFloatBlockRows such rows, added to the double sums per block: a block's partial sum is
  // within 15 * 2^-24 (< 1e-6) of exact, so a channel's rms is within 5e-7 relative.
  RowStats AddExactSquareRow(int64_t row, const float* x, const internal::ScanKernels& kernels);
  static constexpr int kFloatBlockRows = 16;

  sinkscope::v1::OutlierProfile Finish() const;

 private:
  // The top-k heap update for a piece whose maximum |x| is seg_max.
  void OfferEntries(int64_t row, int64_t col0, const float* x, int64_t n, float seg_max);
  void FlushFloatBlock();

  struct Entry {
    double mag;
    int64_t flat;
    double value;
    bool operator>(const Entry& o) const { return mag > o.mag || (mag == o.mag && flat < o.flat); }
  };
  int64_t rows_, cols_;
  int top_k_;
  std::vector<float> ch_max_, tok_max_;  // |x| maxima (exact in float)
  std::vector<double> ch_sq_, tok_sq_;
  std::vector<float> ch_sq_block_;  // AddExactSquareRow's partial sums (empty until used)
  int block_rows_ = 0;               // rows in ch_sq_block_
  std::vector<Entry> heap_;  // min-heap (std::greater) of the top_k entries by |x|
};

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_TENSOR_SUMMARY_H_
