#include "analysis/sink_metrics.h"

#include <algorithm>

namespace sinkscope::analysis {

std::vector<double> AlphaK(const HeadProbabilities& h, int max_k) {
  std::vector<double> alpha;
  const int64_t offset = h.keys - h.queries;  // position of query t is t + offset
  const int64_t kmax = std::min<int64_t>(max_k, h.keys);
  // Per query the factor that turns its row into shares of the row (1 without normalize_rows).
  std::vector<double> row_factor(static_cast<size_t>(h.queries), 1.0);
  if (h.normalize_rows) {
    for (int64_t t = 0; t < h.queries; ++t) {
      double row = 0.0;
      for (int64_t j = 0; j < h.keys; ++j) row += h.probs[t * h.keys + j];
      row_factor[t] = row > 0.0 ? 1.0 / row : 0.0;
    }
  }
  for (int64_t k = 0; k < kmax; ++k) {
    double sum = 0.0;
    int64_t seen = 0;
    for (int64_t t = std::max<int64_t>(0, k - offset); t < h.queries; ++t) {
      sum += h.probs[t * h.keys + k] * row_factor[t];
      ++seen;
    }
    alpha.push_back(seen > 0 ? sum / static_cast<double>(seen) : 0.0);
  }
  return alpha;
}

sinkscope::v1::HeadSink MeasureHeadSink(const HeadProbabilities& h, int layer, int head,
                                        double epsilon, int max_k) {
  sinkscope::v1::HeadSink s;
  s.set_layer(layer);
  s.set_head(head);
  const std::vector<double> alpha = AlphaK(h, std::max(max_k, 1));
  for (double a : alpha) s.add_alpha(a);
  s.set_first_token_mass(alpha.empty() ? 0.0 : alpha[0]);
  if (h.slot_mass != nullptr && h.queries > 0) {
    double sum = 0.0;
    for (int64_t t = 0; t < h.queries; ++t) sum += h.slot_mass[t];
    s.set_sink_slot_mass(sum / static_cast<double>(h.queries));
  }
  s.set_is_sink(s.first_token_mass() > epsilon);
  return s;
}

double SinkRate(const std::vector<sinkscope::v1::HeadSink>& heads, double epsilon) {
  if (heads.empty()) return 0.0;
  int64_t sinks = 0;
  for (const auto& h : heads) sinks += h.first_token_mass() > epsilon;
  return 100.0 * static_cast<double>(sinks) / static_cast<double>(heads.size());
}

}  // namespace sinkscope::analysis
