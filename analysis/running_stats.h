// File: analysis/running_stats.h
//
// running_stats.h: count, mean, variance, min, max, abs-max, skewness and kurtosis in one
// streaming pass, mergeable: the stats of two disjoint shards merge into the stats of their
// union (up to rounding), so a checkpoint or a set of prompts can be scanned in pieces.
//
// Updates use central moments (Welford; Pebay 2008, "Formulas for robust, one-pass parallel
// computation of covariances and arbitrary-order statistical moments"): batches are reduced with
// a two-pass update around their own mean, then merged, which keeps 1e9 + small noise exact to
// rounding. Kurtosis is Pearson's (normal = 3); variance is the population variance.
//
// Example:
//   RunningStats a, b;
//   a.AddBatch(shard0.data(), shard0.size());
//   b.AddBatch(shard1.data(), shard1.size());
//   a.Merge(b);                         // == stats of shard0 ++ shard1
//   double k = a.kurtosis();
#ifndef SINKSCOPE_ANALYSIS_RUNNING_STATS_H_
#define SINKSCOPE_ANALYSIS_RUNNING_STATS_H_

#include <cstdint>
#include <limits>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

class RunningStats {
 public:
  void Add(double x);
  // Adds n values; non-finite values must have been filtered by the caller.
  void AddBatch(const float* x, int64_t n);
  void AddBatch(const double* x, int64_t n);
  // Adds values[j] counts[j] times (finite values; e.g. the distinct values of a bf16 tensor):
  // one block reduced around its own mean in two passes over the distinct values, then merged.
  void AddCounts(const float* values, const uint64_t* counts, int64_t n);
  void Merge(const RunningStats& other);

  int64_t count() const { return n_; }
  double mean() const { return mean_; }
  double variance() const { return n_ > 0 ? m2_ / static_cast<double>(n_) : 0.0; }
  double std() const;
  double min() const { return min_; }
  double max() const { return max_; }
  double abs_max() const;
  // 0 when the variance is 0.
  double skewness() const;
  double kurtosis() const;

  sinkscope::v1::Moments ToProto() const;
  static RunningStats FromProto(const sinkscope::v1::Moments& m);

 private:
  template <typename T>
  void AddBatchImpl(const T* x, int64_t n);
  // Merges a block with the given count and central moments.
  void MergeMoments(int64_t nb, double mean_b, double m2b, double m3b, double m4b);

  int64_t n_ = 0;
  double mean_ = 0.0, m2_ = 0.0, m3_ = 0.0, m4_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_RUNNING_STATS_H_
