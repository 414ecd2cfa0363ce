#include "analysis/running_stats.h"

#include <algorithm>
#include <cmath>

namespace sinkscope::analysis {

void RunningStats::Add(double x) { AddBatchImpl(&x, 1); }
void RunningStats::AddBatch(const float* x, int64_t n) { AddBatchImpl(x, n); }
void RunningStats::AddBatch(const double* x, int64_t n) { AddBatchImpl(x, n); }

template <typename T>
void RunningStats::AddBatchImpl(const T* x, int64_t n) {
  // Blocks of bounded size: two passes each (mean, then central moments), then a merge.
  constexpr int64_t kBlock = 4096;
  for (int64_t off = 0; off < n; off += kBlock) {
    const int64_t len = std::min(kBlock, n - off);
    const T* b = x + off;
    double sum = 0.0, lo = min_, hi = max_;
    for (int64_t i = 0; i < len; ++i) {
      const double v = static_cast<double>(b[i]);
      sum += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    double mean = sum / static_cast<double>(len);
    // One correction step removes the rounding of the first mean (matters for 1e9 + noise).
    double corr = 0.0;
    for (int64_t i = 0; i < len; ++i) corr += static_cast<double>(b[i]) - mean;
    mean += corr / static_cast<double>(len);
    double m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (int64_t i = 0; i < len; ++i) {
      const double d = static_cast<double>(b[i]) - mean;
      const double d2 = d * d;
      m2 += d2;
      m3 += d2 * d;
      m4 += d2 * d2;
    }
    min_ = lo;
    max_ = hi;
    MergeMoments(len, mean, m2, m3, m4);
  }
}

void RunningStats::AddCounts(const float* values, const uint64_t* counts, int64_t n) {
  double total = 0.0, sum = 0.0, lo = min_, hi = max_;
  int64_t count = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (counts[j] == 0) continue;
    const double c = static_cast<double>(counts[j]), v = values[j];
    count += static_cast<int64_t>(counts[j]);
    total += c;
    sum += c * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (count == 0) return;
  double mean = sum / total;
  double corr = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    if (counts[j] != 0) corr += static_cast<double>(counts[j]) * (values[j] - mean);
  }
  mean += corr / total;
  double m2 = 0.0, m3 = 0.0, m4 = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    if (counts[j] == 0) continue;
    const double c = static_cast<double>(counts[j]);
    const double d = static_cast<double>(values[j]) - mean;
    const double d2 = d * d;
    m2 += c * d2;
    m3 += c * d2 * d;
    m4 += c * d2 * d2;
  }
  min_ = lo;
  max_ = hi;
  MergeMoments(count, mean, m2, m3, m4);
}

void RunningStats::MergeMoments(int64_t nb_count, double mean_b, double m2b, double m3b,
                                double m4b) {
  if (nb_count == 0) return;
  if (n_ == 0) {
    n_ = nb_count;
    mean_ = mean_b;
    m2_ = m2b;
    m3_ = m3b;
    m4_ = m4b;
    return;
  }
  const double na = static_cast<double>(n_), nb = static_cast<double>(nb_count);
  const double n = na + nb;
  const double delta = mean_b - mean_;
  const double d_n = delta / n;
  const double d_n2 = d_n * d_n;
  const double m2 = m2_ + m2b + delta * d_n * na * nb;
  const double m3 = m3_ + m3b + delta * d_n2 * na * nb * (na - nb) +
                    3.0 * d_n * (na * m2b - nb * m2_);
  const double m4 = m4_ + m4b + delta * d_n2 * d_n * na * nb * (na * na - na * nb + nb * nb) +
                    6.0 * d_n2 * (na * na * m2b + nb * nb * m2_) + 4.0 * d_n * (na * m3b - nb * m3_);
  n_ += nb_count;
  mean_ += d_n * nb;
  m2_ = m2;
  m3_ = m3;
  m4_ = m4;
}

void RunningStats::Merge(const RunningStats& o) {
  if (o.n_ == 0) return;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  MergeMoments(o.n_, o.mean_, o.m2_, o.m3_, o.m4_);
}

double RunningStats::std() const { return std::sqrt(variance()); }

double RunningStats::abs_max() const {
  return n_ > 0 ? std::max(std::fabs(min_), std::fabs(max_)) : 0.0;
}

double RunningStats::skewness() const {
  if (n_ == 0 || m2_ <= 0.0) return 0.0;
  return std::sqrt(static_cast<double>(n_)) * m3_ / std::pow(m2_, 1.5);
}

double RunningStats::kurtosis() const {
  if (n_ == 0 || m2_ <= 0.0) return 0.0;
  return static_cast<double>(n_) * m4_ / (m2_ * m2_);
}

sinkscope::v1::Moments RunningStats::ToProto() const {
  sinkscope::v1::Moments m;
  m.set_count(n_);
  m.set_mean(mean_);
  m.set_m2(m2_);
  m.set_m3(m3_);
  m.set_m4(m4_);
  m.set_min(n_ > 0 ? min_ : 0.0);
  m.set_max(n_ > 0 ? max_ : 0.0);
  return m;
}

RunningStats RunningStats::FromProto(const sinkscope::v1::Moments& m) {
  RunningStats s;
  if (m.count() <= 0) return s;
  s.n_ = m.count();
  s.mean_ = m.mean();
  s.m2_ = m.m2();
  s.m3_ = m.m3();
  s.m4_ = m.m4();
  s.min_ = m.min();
  s.max_ = m.max();
  return s;
}

}  // namespace sinkscope::analysis
