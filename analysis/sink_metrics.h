// File: analysis/sink_metrics.h
//
// sink_metrics.h: attention-sink metrics from attention probabilities (Gu et al., ICLR 2025,
// "When Attention Sink Emerges in Language Models").
//
// For one head with probabilities A [queries x keys] (query t at position t + keys - queries, so
// that a square causal map has query t = key t):
//   alpha_k = 1 / (number of queries that see key k) * sum over those queries of A[t, k],
//   with k counted from 1 as in the paper (alpha_1 is key position 0, the first-token mass);
//   Sink_1^eps = percentage of (layer, head) pairs with alpha_1 > eps (eps = 0.3).
// A sink logit or KV-bias slot absorbs mass outside A: pass it per query to get its mean.
// Sigmoid attention (attention::Variant::kSigmoid) has rows that do not sum to 1; with
// `normalize_rows` every A[t, k] counts as its share of the row, A[t, k] / sum_j A[t, j] (0 for
// an all-zero row), so that alpha_1 and Sink_1^eps mean the same as under a softmax: the share
// of the query's attention weight on the first token.
//
// Example:
//   HeadProbabilities h{probs.data(), T, T, /*slot_mass=*/nullptr};
//   sinkscope::v1::HeadSink s = MeasureHeadSink(h, /*layer=*/0, /*head=*/2);
//   double rate = SinkRate(all_heads, 0.3);   // percent
#ifndef SINKSCOPE_ANALYSIS_SINK_METRICS_H_
#define SINKSCOPE_ANALYSIS_SINK_METRICS_H_

#include <cstdint>
#include <vector>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

inline constexpr double kDefaultSinkEpsilon = 0.3;

struct HeadProbabilities {
  const float* probs = nullptr;      // [queries x keys], row-major
  int64_t queries = 0;
  int64_t keys = 0;
  const float* slot_mass = nullptr;  // [queries] mass of a sink logit / KV-bias slot, or null
  bool normalize_rows = false;       // sigmoid attention: each row as shares of its sum
};

// alpha_k for k = 1..max_k (fewer when there are fewer keys).
std::vector<double> AlphaK(const HeadProbabilities& h, int max_k);

// first_token_mass, alpha (k = 1..max_k), sink_slot_mass and is_sink for one head.
sinkscope::v1::HeadSink MeasureHeadSink(const HeadProbabilities& h, int layer, int head,
                                        double epsilon = kDefaultSinkEpsilon, int max_k = 8);

// Sink_1^eps in percent over the given heads (0 when empty).
double SinkRate(const std::vector<sinkscope::v1::HeadSink>& heads,
                double epsilon = kDefaultSinkEpsilon);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_SINK_METRICS_H_
