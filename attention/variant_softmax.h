// File: attention/variant_softmax.h
//
// variant_softmax.h: the softmax of one row of attention logits under each variant (formulas in
// attention_spec.h). Invisible keys carry -inf and get probability 0. Sink tokens and the KV-bias
// slot are ordinary keys here; the sink logit is the only mass outside the row.
//
// Example:
//   SoftmaxParams p{Variant::kSinkLogit, /*sink_logit=*/weights.sinks(h)};
//   float outside = VariantSoftmaxRow(row, keys, p);   // row now holds probabilities
#ifndef SINKSCOPE_ATTENTION_VARIANT_SOFTMAX_H_
#define SINKSCOPE_ATTENTION_VARIANT_SOFTMAX_H_

#include <cstdint>

#include "attention/attention_spec.h"

namespace sinkscope::attention {

struct SoftmaxParams {
  Variant variant = Variant::kVanilla;
  float sink_logit = 0.0f;  // kSinkLogit (kSoftmax1 uses 0)
  float zeta = 1.0f;        // kClippedSoftmax
  float gamma = 0.0f;
};

// Replaces row[0..n) by probabilities; returns the probability of the sink logit (kSinkLogit,
// kSoftmax1), else 0. A row with every key invisible becomes all zeros. kSigmoid: each visible
// entry becomes sigmoid(z - ln m), m the number of visible (finite) entries of the row; no
// normalization (weights at or below e^-80 are exactly 0, as below). exp is a vectorised
// polynomial (relative error ~1e-7); terms at or below e^-80 of the largest are exactly 0 and the
// others are lowered by e^-80 (~1.8e-35), so no denormal ever reaches the products.
float VariantSoftmaxRow(float* row, int64_t n, const SoftmaxParams& params);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_VARIANT_SOFTMAX_H_
