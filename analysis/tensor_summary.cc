#include "analysis/tensor_summary.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analysis/scan_kernels.h"

namespace sinkscope::analysis {

SummaryBuilder::SummaryBuilder(SummaryOptions options)
    : options_(options), sketch_(options.relative_accuracy) {}

void SummaryBuilder::Add(const float* x, int64_t n) {
  // Finite values go through in runs, so that the moments see whole batches.
  int64_t start = 0;
  const auto flush = [&](int64_t end) {
    if (end > start) stats_.AddBatch(x + start, end - start);
  };
  int64_t llm = 0;
  const double threshold = options_.llm_int8_threshold;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      flush(i);
      start = i + 1;
      ++nonfinite_;
      continue;
    }
    llm += std::fabs(static_cast<double>(x[i])) >= threshold;
  }
  flush(n);
  llm_int8_count_ += llm;
  sketch_.AddBatch(x, n);  // counts non-finite values apart, as this builder does
}

void SummaryBuilder::Add(const model::TypedTensorView& view) {
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t) { Add(x, n); });
}

void SummaryBuilder::AddCounts(const float* values, const uint64_t* counts, int64_t n) {
  std::vector<float> finite_values;
  std::vector<uint64_t> finite_counts;
  int64_t llm = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (counts[j] == 0) continue;
    if (!std::isfinite(values[j])) {
      nonfinite_ += static_cast<int64_t>(counts[j]);
      continue;
    }
    finite_values.push_back(values[j]);
    finite_counts.push_back(counts[j]);
    if (std::fabs(static_cast<double>(values[j])) >= options_.llm_int8_threshold) {
      llm += static_cast<int64_t>(counts[j]);
    }
  }
  llm_int8_count_ += llm;
  stats_.AddCounts(finite_values.data(), finite_counts.data(),
                   static_cast<int64_t>(finite_values.size()));
  sketch_.AddCounts(values, counts, n);  // counts non-finite values apart, as this builder does
}

absl::Status SummaryBuilder::Merge(const SummaryBuilder& o) {
  if (o.options_.k_sigma != options_.k_sigma ||
      o.options_.llm_int8_threshold != options_.llm_int8_threshold) {
    return absl::InvalidArgumentError("cannot merge summaries with different thresholds");
  }
  if (absl::Status st = sketch_.Merge(o.sketch_); !st.ok()) return st;
  stats_.Merge(o.stats_);
  llm_int8_count_ += o.llm_int8_count_;
  nonfinite_ += o.nonfinite_;
  return absl::OkStatus();
}

sinkscope::v1::Summary SummaryBuilder::ToProto() const {
  sinkscope::v1::Summary s;
  s.set_count(stats_.count());
  s.set_mean(stats_.mean());
  s.set_std(stats_.std());
  s.set_min(stats_.count() > 0 ? stats_.min() : 0.0);
  s.set_max(stats_.count() > 0 ? stats_.max() : 0.0);
  s.set_abs_max(stats_.abs_max());
  s.set_skewness(stats_.skewness());
  s.set_kurtosis(stats_.kurtosis());
  s.set_median_abs(sketch_.Quantile(0.5));
  s.set_p99_abs(sketch_.Quantile(0.99));
  s.set_p999_abs(sketch_.Quantile(0.999));
  s.set_p9999_abs(sketch_.Quantile(0.9999));
  s.set_abs_max_over_median(s.median_abs() > 0.0 ? s.abs_max() / s.median_abs() : 0.0);
  s.set_k_sigma(options_.k_sigma);
  s.set_count_above_k_sigma(
      stats_.count() > 0 ? sketch_.CountAbove(std::fabs(stats_.mean()) +
                                              options_.k_sigma * stats_.std())
                         : 0);
  s.set_llm_int8_count(llm_int8_count_);
  s.set_llm_int8_threshold(options_.llm_int8_threshold);
  s.set_nonfinite_count(nonfinite_);
  *s.mutable_moments() = stats_.ToProto();
  *s.mutable_sketch() = sketch_.ToProto();
  return s;
}

absl::StatusOr<SummaryBuilder> SummaryBuilder::FromProto(const sinkscope::v1::Summary& s) {
  SummaryOptions o;
  o.k_sigma = s.k_sigma();
  o.llm_int8_threshold = s.llm_int8_threshold();
  absl::StatusOr<MagnitudeSketch> sketch = MagnitudeSketch::FromProto(s.sketch());
  if (!sketch.ok()) return sketch.status();
  o.relative_accuracy = sketch->relative_accuracy();
  SummaryBuilder b(o);
  b.sketch_ = *sketch;
  b.stats_ = RunningStats::FromProto(s.moments());
  b.llm_int8_count_ = s.llm_int8_count();
  b.nonfinite_ = s.nonfinite_count();
  if (b.stats_.count() != b.sketch_.count() || b.llm_int8_count_ < 0 || b.nonfinite_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "summary state is inconsistent: moments count ", b.stats_.count(), ", sketch count ",
        b.sketch_.count()));
  }
  return b;
}

sinkscope::v1::Summary Summarize(const model::TypedTensorView& view, SummaryOptions options) {
  SummaryBuilder b(options);
  b.Add(view);
  return b.ToProto();
}

OutlierProfiler::OutlierProfiler(int64_t rows, int64_t cols, int top_k)
    : rows_(rows), cols_(cols), top_k_(std::max(top_k, 0)), ch_max_(cols, 0.0f),
      tok_max_(rows, 0.0f), ch_sq_(cols, 0.0), tok_sq_(rows, 0.0) {}

void OutlierProfiler::Add(int64_t row, int64_t col0, const float* x, int64_t n) {
  const bool finite = internal::AllFinite(x, n);
  float* ch_max = ch_max_.data() + col0;
  double* ch_sq = ch_sq_.data() + col0;
  float seg_max = 0.0f;
  if (finite) {
    tok_sq_[row] += internal::ProfileFinite(x, n, ch_max, ch_sq, &seg_max);
  } else {
    double sq = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const float m = std::fabs(x[i]);
      const double v = x[i];
      ch_max[i] = std::max(ch_max[i], m);
      ch_sq[i] += v * v;
      seg_max = std::max(seg_max, m);
      sq += v * v;
    }
    tok_sq_[row] += sq;
  }
  tok_max_[row] = std::max(tok_max_[row], seg_max);
  OfferEntries(row, col0, x, n, seg_max);
}

OutlierProfiler::RowStats OutlierProfiler::AddExactSquareRow(
    int64_t row, const float* x, const internal::ScanKernels& kernels) {
  if (ch_sq_block_.empty()) ch_sq_block_.assign(cols_, 0.0f);
  const internal::RowProfile p = kernels.profile_row(x, cols_, ch_max_.data(),
                                                     ch_sq_block_.data());
  if (++block_rows_ == kFloatBlockRows) FlushFloatBlock();
  tok_sq_[row] += p.sum_sq;
  tok_max_[row] = std::max(tok_max_[row], p.abs_max);
  OfferEntries(row, 0, x, cols_, p.abs_max);
  RowStats s;
  s.lo = p.lo;
  s.hi = p.hi;
  s.abs_max = p.abs_max;
  s.sum_sq = p.sum_sq;
  return s;
}

void OutlierProfiler::FlushFloatBlock() {
  for (int64_t c = 0; c < cols_; ++c) {
    ch_sq_[c] += ch_sq_block_[c];
    ch_sq_block_[c] = 0.0f;
  }
  block_rows_ = 0;
}

void OutlierProfiler::OfferEntries(int64_t row, int64_t col0, const float* x, int64_t n,
                                   float seg_max) {
  if (top_k_ == 0) return;
  // Entries arrive in increasing flat index, so one of equal magnitude never displaces the top:
  // a piece whose maximum is not above the heap's minimum changes nothing.
  if (static_cast<int>(heap_.size()) == top_k_ && seg_max <= heap_.front().mag) return;
  const auto greater = std::greater<Entry>();
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) continue;
    const Entry e{std::fabs(static_cast<double>(x[i])), row * cols_ + col0 + i, x[i]};
    if (static_cast<int>(heap_.size()) < top_k_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), greater);
    } else if (e > heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end(), greater);
      heap_.back() = e;
      std::push_heap(heap_.begin(), heap_.end(), greater);
    }
  }
}

sinkscope::v1::OutlierProfile OutlierProfiler::Finish() const {
  sinkscope::v1::OutlierProfile p;
  if (rows_ == 0 || cols_ == 0) return p;
  for (float v : ch_max_) p.add_channel_abs_max(v);
  for (float v : tok_max_) p.add_token_abs_max(v);
  const auto top_indices = [&](const std::vector<float>& mx, const std::vector<double>& sq,
                               int64_t count_per, auto* out) {
    std::vector<int64_t> idx(mx.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    const size_t k = std::min(idx.size(), static_cast<size_t>(top_k_));
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
      return mx[a] != mx[b] ? mx[a] > mx[b] : a < b;
    });
    for (size_t i = 0; i < k; ++i) {
      sinkscope::v1::IndexProfile* e = out->Add();
      e->set_index(idx[i]);
      e->set_abs_max(mx[idx[i]]);
      e->set_rms(std::sqrt(sq[idx[i]] / static_cast<double>(count_per)));
    }
  };
  if (block_rows_ > 0) {  // the partial block of AddExactSquareRow
    std::vector<double> ch_sq = ch_sq_;
    for (int64_t c = 0; c < cols_; ++c) ch_sq[c] += ch_sq_block_[c];
    top_indices(ch_max_, ch_sq, rows_, p.mutable_top_channels());
  } else {
    top_indices(ch_max_, ch_sq_, rows_, p.mutable_top_channels());
  }
  top_indices(tok_max_, tok_sq_, cols_, p.mutable_top_tokens());
  std::vector<Entry> entries = heap_;
  std::sort(entries.begin(), entries.end(), std::greater<Entry>());
  for (const Entry& e : entries) {
    sinkscope::v1::TensorEntry* t = p.add_top_entries();
    t->set_token(e.flat / cols_);
    t->set_channel(e.flat % cols_);
    t->set_value(e.value);
  }
  return p;
}

sinkscope::v1::OutlierProfile ProfileOutliers(const model::TypedTensorView& view, int top_k) {
  const int64_t cols = view.shape.empty() ? 1 : view.shape.back();
  const int64_t total = view.size();
  const int64_t rows = cols > 0 ? total / cols : 0;
  if (rows == 0 || cols == 0) return sinkscope::v1::OutlierProfile();
  OutlierProfiler profiler(rows, cols, top_k);
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    // Split the chunk at row boundaries.
    for (int64_t i = 0; i < n;) {
      const int64_t row = (off + i) / cols, col = (off + i) % cols;
      const int64_t len = std::min(n - i, cols - col);
      profiler.Add(row, col, x + i, len);
      i += len;
    }
  });
  return profiler.Finish();
}

}  // namespace sinkscope::analysis
