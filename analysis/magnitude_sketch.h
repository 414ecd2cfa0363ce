// File: analysis/magnitude_sketch.h
//
// magnitude_sketch.h: a mergeable quantile sketch of |x| with a relative-error guarantee
// (logarithmic buckets, as DDSketch: Masson et al., VLDB 2019). Bucket i holds magnitudes in
// (B(i-1), B(i)] with B(i) = gamma^i = std::pow(gamma, i) in double and gamma = (1 + alpha) /
// (1 - alpha); a quantile is answered with 2 B(i) / (gamma + 1), which is within a factor
// (1 +- alpha) of the true value of that rank (up to the double rounding of B, ~1e-16 relative).
// Placement is exact: a magnitude is compared with the boundaries, never rounded through a log.
// Floats take a table indexed by their exponent and top 8 mantissa bits (the cell's lowest
// bucket and the one boundary the cell may straddle: one compare of the bits, no libm call);
// cells that straddle several boundaries (alpha < ~0.002) and doubles take log + correction
// against the boundaries. Both give the same bucket for the same value, so sketches built either
// way merge exactly. Magnitudes below 1e-30 count as zero. Merging adds bucket counts: exact,
// order-independent.
//
// Example:
//   MagnitudeSketch s(0.005);           // 0.5 % relative accuracy
//   s.AddBatch(x, n);
//   double median = s.Quantile(0.5);    // of |x|
#ifndef SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_
#define SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

class MagnitudeSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.005;
  static constexpr double kMinIndexable = 1e-30;

  explicit MagnitudeSketch(double relative_accuracy = kDefaultRelativeAccuracy);

  void Add(double x);
  void AddBatch(const float* x, int64_t n);
  // Adds values[j] counts[j] times (e.g. a histogram of the distinct values of a bf16 tensor).
  void AddCounts(const float* values, const uint64_t* counts, int64_t n);
  // Errors when the accuracies differ.
  absl::Status Merge(const MagnitudeSketch& other);

  int64_t count() const { return count_; }
  int64_t nonfinite_count() const { return nonfinite_; }
  double relative_accuracy() const { return alpha_; }
  // Value of rank floor(q * (count - 1)) among the |x| (0 <= q <= 1); 0 when empty.
  double Quantile(double q) const;
  // The bucket of magnitude m >= kMinIndexable (exact: B(i-1) < m <= B(i)).
  int BucketIndex(double m) const;
  // B(i) = gamma^i, the upper boundary of bucket i.
  double BucketUpperBound(int i) const;
  // Number of |x| whose bucket lies entirely above `threshold`, plus the threshold's own bucket
  // when its representative value exceeds it: exact to within that one bucket.
  int64_t CountAbove(double threshold) const;

  sinkscope::v1::MagnitudeSketch ToProto() const;
  static absl::StatusOr<MagnitudeSketch> FromProto(const sinkscope::v1::MagnitudeSketch& p);

 private:
  struct FloatIndexTable;
  static std::shared_ptr<const FloatIndexTable> TableFor(double alpha);
  double Representative(int index) const;
  void Increment(int index, int64_t by);
  // The bucket of a positive finite float >= kMinIndexable, through the table.
  int FloatIndex(float m) const;

  double alpha_, gamma_, log_gamma_;
  std::shared_ptr<const FloatIndexTable> table_;  // shared by all sketches of this alpha
  int64_t count_ = 0;
  int64_t zero_ = 0;
  int64_t nonfinite_ = 0;
  int min_index_ = 0;
  std::vector<int64_t> counts_;  // counts_[j] = bucket min_index_ + j
};

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_
