#include "analysis/magnitude_sketch.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace sinkscope::analysis {
namespace {

uint32_t FloatBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof(b));
  return b;
}

float BitsToFloat(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof(f));
  return f;
}

constexpr uint32_t kNonFiniteBits = 0x7f800000u;  // |x| bits at or above: Inf or NaN
constexpr int kCellShift = 15;                    // cell = exponent and top 8 mantissa bits
constexpr int32_t kSlowCell = INT32_MIN;

}  // namespace

// Per cell of 2^15 consecutive positive floats: the bucket of its lowest float and the bits of
// the largest float still in that bucket (all ones when the whole cell is in it); kSlowCell when
// the cell straddles several boundaries, lies below kMinIndexable or is not finite.
struct MagnitudeSketch::FloatIndexTable {
  struct Cell {
    int32_t low;
    uint32_t last_in_low;
  };
  std::vector<Cell> cells;
  uint32_t zero_below_bits = 0;  // positive floats with fewer bits are < kMinIndexable
};

std::shared_ptr<const MagnitudeSketch::FloatIndexTable> MagnitudeSketch::TableFor(double alpha) {
  static std::mutex mu;
  static std::map<double, std::shared_ptr<const FloatIndexTable>>* cache =
      new std::map<double, std::shared_ptr<const FloatIndexTable>>();
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<const FloatIndexTable>& slot = (*cache)[alpha];
  if (slot != nullptr) return slot;
  const MagnitudeSketch s(alpha);
  auto t = std::make_shared<FloatIndexTable>();
  float z = static_cast<float>(kMinIndexable);
  if (static_cast<double>(z) < kMinIndexable) z = std::nextafter(z, 1.0f);
  t->zero_below_bits = FloatBits(z);
  t->cells.resize(size_t{1} << (32 - 1 - kCellShift));
  for (size_t k = 0; k < t->cells.size(); ++k) {
    const uint32_t lo_bits = static_cast<uint32_t>(k) << kCellShift;
    const uint32_t hi_bits = lo_bits | ((1u << kCellShift) - 1);
    FloatIndexTable::Cell& cell = t->cells[k];
    cell = {kSlowCell, 0};
    if (hi_bits >= kNonFiniteBits || lo_bits < t->zero_below_bits) continue;
    const int il = s.BucketIndex(BitsToFloat(lo_bits));
    const int ih = s.BucketIndex(BitsToFloat(hi_bits));
    if (ih == il) {
      cell = {il, 0xffffffffu};
    } else if (ih == il + 1) {
      const double b = s.BucketUpperBound(il);
      float f = static_cast<float>(b);
      if (static_cast<double>(f) > b) f = std::nextafter(f, 0.0f);
      cell = {il, FloatBits(f)};
    }
  }
  slot = std::move(t);
  return slot;
}

MagnitudeSketch::MagnitudeSketch(double relative_accuracy)
    : alpha_(std::clamp(relative_accuracy, 1e-4, 0.5)),
      gamma_((1.0 + alpha_) / (1.0 - alpha_)),
      log_gamma_(std::log(gamma_)) {}

double MagnitudeSketch::BucketUpperBound(int i) const { return std::pow(gamma_, i); }

int MagnitudeSketch::BucketIndex(double m) const {
  // log gives the bucket to within rounding; the boundaries decide.
  int i = static_cast<int>(std::ceil(std::log(m) / log_gamma_));
  while (m > BucketUpperBound(i)) ++i;
  while (m <= BucketUpperBound(i - 1)) --i;
  return i;
}

int MagnitudeSketch::FloatIndex(float m) const {
  const uint32_t bits = FloatBits(m);
  const FloatIndexTable::Cell c = table_->cells[bits >> kCellShift];
  if (c.low == kSlowCell) return BucketIndex(m);
  return c.low + (bits > c.last_in_low ? 1 : 0);
}

double MagnitudeSketch::Representative(int i) const {
  return 2.0 * BucketUpperBound(i) / (gamma_ + 1.0);
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
  Increment(BucketIndex(m), 1);
}

void MagnitudeSketch::AddBatch(const float* x, int64_t n) {
  if (table_ == nullptr) table_ = TableFor(alpha_);
  const uint32_t zero_below = table_->zero_below_bits;
  int64_t nonfinite = 0, zero = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = FloatBits(x[i]) & 0x7fffffffu;
    if (bits >= kNonFiniteBits) {
      ++nonfinite;
      continue;
    }
    if (bits < zero_below) {
      ++zero;
      continue;
    }
    const int index = FloatIndex(BitsToFloat(bits));
    const int j = index - min_index_;
    if (!counts_.empty() && j >= 0 && j < static_cast<int>(counts_.size())) {
      ++counts_[j];  // the common case: inside the buckets seen so far
    } else {
      Increment(index, 1);
    }
  }
  nonfinite_ += nonfinite;
  count_ += n - nonfinite;
  zero_ += zero;
}

void MagnitudeSketch::AddCounts(const float* values, const uint64_t* counts, int64_t n) {
  if (table_ == nullptr) table_ = TableFor(alpha_);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t c = static_cast<int64_t>(counts[j]);
    if (c == 0) continue;
    const uint32_t bits = FloatBits(values[j]) & 0x7fffffffu;
    if (bits >= kNonFiniteBits) {
      nonfinite_ += c;
      continue;
    }
    count_ += c;
    if (bits < table_->zero_below_bits) {
      zero_ += c;
      continue;
    }
    Increment(FloatIndex(BitsToFloat(bits)), c);
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
