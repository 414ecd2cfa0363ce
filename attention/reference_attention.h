// File: attention/reference_attention.h
//
// reference_attention.h: the fp32 attention layer (Eigen), the oracle of every other path:
// x -> Q, K, V projections -> RoPE -> scores -> masked variant softmax -> P V -> gate ->
// output projection. It can return every intermediate (attention_layer.h).
//
// Example:
//   absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(spec, weights);
//   AttentionIntermediates inter;
//   absl::StatusOr<FloatMatrix> y = layer->Forward(x, &inter);
#ifndef SINKSCOPE_ATTENTION_REFERENCE_ATTENTION_H_
#define SINKSCOPE_ATTENTION_REFERENCE_ATTENTION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "attention/attention_layer.h"

namespace sinkscope::attention {

class ReferenceAttention {
 public:
  // Copies the weights. Errors: invalid spec or weights (naming the tensor).
  static absl::StatusOr<ReferenceAttention> Create(const AttentionSpec& spec,
                                                   AttentionWeights weights);

  absl::StatusOr<FloatMatrix> Forward(const FloatMatrix& x,
                                      AttentionIntermediates* intermediates = nullptr) const;

  const AttentionSpec& spec() const { return spec_; }
  const AttentionWeights& weights() const { return *weights_; }

 private:
  AttentionSpec spec_;
  std::shared_ptr<const AttentionWeights> weights_;
};

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_REFERENCE_ATTENTION_H_
