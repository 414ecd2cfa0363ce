// File: attention/onednn_f32_backend.h
//
// onednn_f32_backend.h: the attention layer's products as fp32 oneDNN matmuls: the fp32 path a
// user would otherwise build on oneDNN, the baseline of the int8 path's speed. Projection weights
// are transposed once; primitives come from oneDNN's primitive cache by shape.
//
// Example:
//   OnednnF32Backend backend(weights);
//   absl::StatusOr<FloatMatrix> y = RunAttentionLayer(spec, weights, backend, x, nullptr);
#ifndef SINKSCOPE_ATTENTION_ONEDNN_F32_BACKEND_H_
#define SINKSCOPE_ATTENTION_ONEDNN_F32_BACKEND_H_

#include <array>
#include <string>

#include "attention/attention_layer.h"

namespace sinkscope::attention {

// C = A B (transpose_b: C = A B^T) in fp32 through oneDNN. Errors: shapes, oneDNN.
absl::Status OnednnF32Matmul(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
                             FloatMatrix* c);

class OnednnF32Backend : public MatmulBackend {
 public:
  explicit OnednnF32Backend(const AttentionWeights& weights);
  absl::Status Project(Projection which, const FloatMatrix& x, FloatMatrix* out) override;
  absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) override;
  absl::Status Scores(const FloatMatrix& q, FloatMatrix* out) override;
  absl::Status Mix(const FloatMatrix& p, FloatMatrix* out) override;
  std::string Name() const override { return "onednn_fp32"; }

 private:
  std::array<FloatMatrix, 4> wt_;  // W^T per projection
  const FloatMatrix* k_ = nullptr;
  const FloatMatrix* v_ = nullptr;
};

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ONEDNN_F32_BACKEND_H_
