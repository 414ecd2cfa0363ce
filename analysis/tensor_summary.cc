#include "analysis/tensor_summary.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <vector>

#include "absl/strings/str_cat.h"

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

sinkscope::v1::OutlierProfile ProfileOutliers(const model::TypedTensorView& view, int top_k) {
  sinkscope::v1::OutlierProfile p;
  const int64_t cols = view.shape.empty() ? 1 : view.shape.back();
  const int64_t total = view.size();
  const int64_t rows = cols > 0 ? total / cols : 0;
  if (rows == 0 || cols == 0) return p;
  std::vector<double> ch_max(cols, 0.0), ch_sq(cols, 0.0), tok_max(rows, 0.0), tok_sq(rows, 0.0);
  // Min-heap of the top_k |x| entries: (magnitude, flat index, value).
  struct Entry {
    double mag;
    int64_t flat;
    double value;
    bool operator>(const Entry& o) const { return mag > o.mag || (mag == o.mag && flat < o.flat); }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[i];
      if (!std::isfinite(v)) continue;
      const int64_t flat = off + i;
      const int64_t r = flat / cols, c = flat % cols;
      const double m = std::fabs(v);
      ch_max[c] = std::max(ch_max[c], m);
      ch_sq[c] += v * v;
      tok_max[r] = std::max(tok_max[r], m);
      tok_sq[r] += v * v;
      if (top_k <= 0) continue;
      if (static_cast<int>(heap.size()) < top_k) {
        heap.push({m, flat, v});
      } else if (Entry{m, flat, v} > heap.top()) {
        heap.pop();
        heap.push({m, flat, v});
      }
    }
  });
  for (double v : ch_max) p.add_channel_abs_max(v);
  for (double v : tok_max) p.add_token_abs_max(v);
  const auto top_indices = [&](const std::vector<double>& mx, const std::vector<double>& sq,
                               int64_t count_per, auto* out) {
    std::vector<int64_t> idx(mx.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    const size_t k = std::min(idx.size(), static_cast<size_t>(std::max(top_k, 0)));
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
  top_indices(ch_max, ch_sq, rows, p.mutable_top_channels());
  top_indices(tok_max, tok_sq, cols, p.mutable_top_tokens());
  std::vector<Entry> entries;
  while (!heap.empty()) {
    entries.push_back(heap.top());
    heap.pop();
  }
  std::reverse(entries.begin(), entries.end());
  for (const Entry& e : entries) {
    sinkscope::v1::TensorEntry* t = p.add_top_entries();
    t->set_token(e.flat / cols);
    t->set_channel(e.flat % cols);
    t->set_value(e.value);
  }
  return p;
}

}  // namespace sinkscope::analysis
