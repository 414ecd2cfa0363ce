#include "analysis/magnitude_sketch.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sinkscope::analysis {

MagnitudeSketch::MagnitudeSketch(double relative_accuracy)
    : alpha_(std::clamp(relative_accuracy, 1e-4, 0.5)),
      gamma_((1.0 + alpha_) / (1.0 - alpha_)),
      log_gamma_(std::log(gamma_)) {}

int MagnitudeSketch::Index(double m) const {
  // The same expression as AddBatch's, so both put a value in the same bucket.
  const double inv_log_gamma = 1.0 / log_gamma_;
  return static_cast<int>(std::ceil(std::log(m) * inv_log_gamma));
}

double MagnitudeSketch::Representative(int i) const {
  return 2.0 * std::pow(gamma_, i) / (gamma_ + 1.0);
}

void MagnitudeSketch::Increment(int index, int64_t by) {
  if (counts_.empty()) {
    min_index_ = index;
    counts_.assign(1, 0);
  } else if (index < min_index_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(min_index_ - index), 0);
    min_index_ = index;
  } else if (index >= min_index_ + static_cast<int>(counts_.size())) {
    counts_.resize(static_cast<size_t>(index - min_index_ + 1), 0);
  }
  counts_[index - min_index_] += by;
}

void MagnitudeSketch::Add(double x) {
  if (!std::isfinite(x)) {
    ++nonfinite_;
    return;
  }
  ++count_;
  const double m = std::fabs(x);
  if (m < kMinIndexable) {
    ++zero_;
    return;
  }
  Increment(Index(m), 1);
}

void MagnitudeSketch::AddBatch(const float* x, int64_t n) {
  const double inv_log_gamma = 1.0 / log_gamma_;
  for (int64_t i = 0; i < n; ++i) {
    const double m = std::fabs(static_cast<double>(x[i]));
    if (!std::isfinite(m)) {
      ++nonfinite_;
      continue;
    }
    ++count_;
    if (m < kMinIndexable) {
      ++zero_;
      continue;
    }
    const int index = static_cast<int>(std::ceil(std::log(m) * inv_log_gamma));  // as Index()
    const int j = index - min_index_;
    if (!counts_.empty() && j >= 0 && j < static_cast<int>(counts_.size())) {
      ++counts_[j];  // the common case: inside the buckets seen so far
    } else {
      Increment(index, 1);
    }
  }
}

absl::Status MagnitudeSketch::Merge(const MagnitudeSketch& o) {
  if (o.alpha_ != alpha_) {
    return absl::InvalidArgumentError(absl::StrCat("cannot merge sketches of relative accuracy ",
                                                   alpha_, " and ", o.alpha_));
  }
  count_ += o.count_;
  zero_ += o.zero_;
  nonfinite_ += o.nonfinite_;
  for (size_t j = 0; j < o.counts_.size(); ++j) {
    if (o.counts_[j] != 0) Increment(o.min_index_ + static_cast<int>(j), o.counts_[j]);
  }
  return absl::OkStatus();
}

double MagnitudeSketch::Quantile(double q) const {
  if (count_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const int64_t rank = static_cast<int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_) return 0.0;
  int64_t seen = zero_;
  for (size_t j = 0; j < counts_.size(); ++j) {
    seen += counts_[j];
    if (seen > rank) return Representative(min_index_ + static_cast<int>(j));
  }
  return Representative(min_index_ + static_cast<int>(counts_.size()) - 1);
}

int64_t MagnitudeSketch::CountAbove(double threshold) const {
  int64_t c = 0;
  for (size_t j = 0; j < counts_.size(); ++j) {
    if (Representative(min_index_ + static_cast<int>(j)) > threshold) c += counts_[j];
  }
  if (threshold < 0.0) c += zero_;
  return c;
}

sinkscope::v1::MagnitudeSketch MagnitudeSketch::ToProto() const {
  sinkscope::v1::MagnitudeSketch p;
  p.set_relative_accuracy(alpha_);
  p.set_zero_count(zero_);
  p.set_nonfinite_count(nonfinite_);
  p.set_min_index(min_index_);
  for (int64_t c : counts_) p.add_counts(c);
  return p;
}

absl::StatusOr<MagnitudeSketch> MagnitudeSketch::FromProto(const sinkscope::v1::MagnitudeSketch& p) {
  if (!(p.relative_accuracy() >= 1e-4 && p.relative_accuracy() <= 0.5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sketch relative_accuracy ", p.relative_accuracy(), " outside [1e-4, 0.5]"));
  }
  if (p.counts_size() > 200000) {
    return absl::InvalidArgumentError("sketch has more than 200000 buckets");
  }
  MagnitudeSketch s(p.relative_accuracy());
  if (p.zero_count() < 0 || p.nonfinite_count() < 0) {
    return absl::InvalidArgumentError("sketch has negative counts");
  }
  s.zero_ = p.zero_count();
  s.nonfinite_ = p.nonfinite_count();
  s.count_ = s.zero_;
  s.min_index_ = p.min_index();
  for (int64_t c : p.counts()) {
    if (c < 0) return absl::InvalidArgumentError("sketch has negative counts");
    s.counts_.push_back(c);
    s.count_ += c;
  }
  return s;
}

}  // namespace sinkscope::analysis
