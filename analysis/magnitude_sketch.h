// File: analysis/magnitude_sketch.h
//
// magnitude_sketch.h: a mergeable quantile sketch of |x| with a relative-error guarantee
// (logarithmic buckets, as DDSketch: Masson et al., VLDB 2019). Bucket i holds magnitudes in
// (gamma^(i-1), gamma^i] with gamma = (1 + alpha) / (1 - alpha); a quantile is answered with
// 2 gamma^i / (gamma + 1), which is within a factor (1 +- alpha) of the true value of that rank.
// Magnitudes below 1e-30 count as zero. Merging adds bucket counts: exact, order-independent.
//
// Example:
//   MagnitudeSketch s(0.005);           // 0.5 % relative accuracy
//   s.AddBatch(x, n);
//   double median = s.Quantile(0.5);    // of |x|
#ifndef SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_
#define SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_

#include <cstdint>
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
  // Errors when the accuracies differ.
  absl::Status Merge(const MagnitudeSketch& other);

  int64_t count() const { return count_; }
  int64_t nonfinite_count() const { return nonfinite_; }
  double relative_accuracy() const { return alpha_; }
  // Value of rank floor(q * (count - 1)) among the |x| (0 <= q <= 1); 0 when empty.
  double Quantile(double q) const;
  // Number of |x| whose bucket lies entirely above `threshold`, plus the threshold's own bucket
  // when its representative value exceeds it: exact to within that one bucket.
  int64_t CountAbove(double threshold) const;

  sinkscope::v1::MagnitudeSketch ToProto() const;
  static absl::StatusOr<MagnitudeSketch> FromProto(const sinkscope::v1::MagnitudeSketch& p);

 private:
  int Index(double magnitude) const;
  double Representative(int index) const;
  void Increment(int index, int64_t by);

  double alpha_, gamma_, log_gamma_;
  int64_t count_ = 0;
  int64_t zero_ = 0;
  int64_t nonfinite_ = 0;
  int min_index_ = 0;
  std::vector<int64_t> counts_;  // counts_[j] = bucket min_index_ + j
};

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_MAGNITUDE_SKETCH_H_
