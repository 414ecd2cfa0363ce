// File: attention/attention_weights.h
//
// attention_weights.h: the parameters of one attention layer, in Hugging Face nn.Linear layout
// (y = x W^T + b, W [out_features x in_features]), and the variants' extra parameters.
//
//   wq [H*D x d_model], wk, wv [KVH*D x d_model], wo [d_model x H*D]; biases bq, bk, bv, bo;
//   sinks [H]                 sink logits S_h            (kSinkLogit)
//   k_bias, v_bias [KVH x D]  prepended key / value      (kKvBias)
//   sink_tokens [n x d_model] prepended token embeddings (kSinkTokens)
//   gate_w [H x d_model], gate_b [H]                     (kGated)
//
// Example:
//   AttentionWeights w = RandomAttentionWeights(spec, /*seed=*/7);
//   absl::Status st = ValidateWeights(spec, w);
#ifndef SINKSCOPE_ATTENTION_ATTENTION_WEIGHTS_H_
#define SINKSCOPE_ATTENTION_ATTENTION_WEIGHTS_H_

#include <cstdint>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "attention/attention_spec.h"
#include "quant/tensor.h"

namespace sinkscope::attention {

using quant::FloatMatrix;
using FloatVector = Eigen::VectorXf;

struct AttentionWeights {
  FloatMatrix wq, wk, wv, wo;
  FloatVector bq, bk, bv, bo;  // empty when the spec has no such bias
  FloatVector sinks;
  FloatMatrix k_bias, v_bias;
  FloatMatrix sink_tokens;
  FloatMatrix gate_w;
  FloatVector gate_b;
};

// Every tensor the spec needs is present with its shape and finite; error names the tensor.
absl::Status ValidateWeights(const AttentionSpec& spec, const AttentionWeights& w);

// Random weights with the usual 1/sqrt(fan_in) scale, for tests and benchmarks. Sink logits,
// biases, sink tokens and gates get small random values.
AttentionWeights RandomAttentionWeights(const AttentionSpec& spec, uint32_t seed);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ATTENTION_WEIGHTS_H_
