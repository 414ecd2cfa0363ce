#include "attention/reference_attention.h"

namespace sinkscope::attention {

absl::StatusOr<ReferenceAttention> ReferenceAttention::Create(const AttentionSpec& spec,
                                                              AttentionWeights weights) {
  if (absl::Status st = ValidateWeights(spec, weights); !st.ok()) return st;
  ReferenceAttention layer;
  layer.spec_ = spec;
  layer.weights_ = std::make_shared<const AttentionWeights>(std::move(weights));
  return layer;
}

absl::StatusOr<FloatMatrix> ReferenceAttention::Forward(const FloatMatrix& x,
                                                        AttentionIntermediates* inter) const {
  EigenBackend backend(*weights_);
  return RunAttentionLayer(spec_, *weights_, backend, x, inter);
}

}  // namespace sinkscope::attention
