#include "analysis/massive_activation.h"

#include <algorithm>
#include <cmath>

namespace sinkscope::analysis {

MassiveActivationResult DetectMassiveActivations(const model::TypedTensorView& hidden, int layer,
                                                 const MassiveActivationOptions& options) {
  MassiveActivationResult r;
  const int64_t n = hidden.size();
  const int64_t cols = hidden.shape.empty() ? 1 : hidden.shape.back();
  if (n == 0 || cols == 0) return r;
  std::vector<float> mags;
  mags.reserve(n);
  model::ForEachFloatChunk(hidden, [&](const float* x, int64_t len, int64_t) {
    for (int64_t i = 0; i < len; ++i) {
      if (std::isfinite(x[i])) mags.push_back(std::fabs(x[i]));
    }
  });
  if (mags.empty()) return r;
  // Median: mean of the two middle values for an even count.
  const size_t mid = mags.size() / 2;
  std::nth_element(mags.begin(), mags.begin() + mid, mags.end());
  double median = mags[mid];
  if (mags.size() % 2 == 0) {
    const float lower = *std::max_element(mags.begin(), mags.begin() + mid);
    median = 0.5 * (static_cast<double>(lower) + median);
  }
  r.median_abs = median;
  model::ForEachFloatChunk(hidden, [&](const float* x, int64_t len, int64_t off) {
    for (int64_t i = 0; i < len; ++i) {
      const double v = x[i];
      const double m = std::fabs(v);
      if (!std::isfinite(v) || m <= options.abs_threshold || m < options.ratio_threshold * median) {
        continue;
      }
      ++r.total_hits;
      sinkscope::v1::MassiveActivation hit;
      hit.set_layer(layer);
      hit.set_token((off + i) / cols);
      hit.set_channel((off + i) % cols);
      hit.set_value(v);
      hit.set_ratio(median > 0.0 ? m / median : INFINITY);
      r.hits.push_back(hit);
    }
  });
  std::stable_sort(r.hits.begin(), r.hits.end(), [](const auto& a, const auto& b) {
    return std::fabs(a.value()) > std::fabs(b.value());
  });
  if (static_cast<int64_t>(r.hits.size()) > options.max_hits) r.hits.resize(options.max_hits);
  return r;
}

}  // namespace sinkscope::analysis
