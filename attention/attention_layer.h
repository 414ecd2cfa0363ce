// File: attention/attention_layer.h
//
// attention_layer.h: the one implementation of an attention layer, parameterised by the matmul
// backend that runs its five products (Q/K/V/O projections, Q K^T, P V). RoPE, masking, the
// variant softmax, the sink terms and the gate always run in fp32 here. ReferenceAttention
// (fp32 through quant::Sgemm: OpenBLAS, or Eigen under SINKSCOPE_SGEMM=eigen) and Int8Attention
// (int8 through quant::Int8Gemm) are this layer with their backend.
//
// Layout: the sequence's tokens sit at positions n_sink + t (sink tokens at 0..n_sink-1); keys
// are [prefix keys (sink tokens or the KV-bias slot); sequence keys]. With GQA the queries of a
// group's heads are stacked and share one product with their kv head.
//
// Example:
//   EigenBackend backend(weights);
//   AttentionIntermediates inter;
//   absl::StatusOr<FloatMatrix> y = RunAttentionLayer(spec, weights, backend, x, &inter);
#ifndef SINKSCOPE_ATTENTION_ATTENTION_LAYER_H_
#define SINKSCOPE_ATTENTION_ATTENTION_LAYER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"

namespace sinkscope::attention {

enum class Projection { kQ, kK, kV, kO };

// Each product writes into *out, resizing it; a caller that passes the same matrix again reuses
// its storage. The layer sets one kv head's keys and values, then runs Scores and Mix for blocks
// of queries against them, so a backend prepares (quantizes) K and V once per head.
class MatmulBackend {
 public:
  virtual ~MatmulBackend() = default;
  // x W^T for the projection's weight (the caller adds the bias).
  virtual absl::Status Project(Projection which, const FloatMatrix& x, FloatMatrix* out) = 0;
  // k, v [keys x D] for the following Scores / Mix; they outlive those calls.
  virtual absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) = 0;
  // Q K^T (unscaled): q [rows x D] -> [rows x keys].
  virtual absl::Status Scores(const FloatMatrix& q, FloatMatrix* out) = 0;
  // P V: p [rows x keys] -> [rows x D].
  virtual absl::Status Mix(const FloatMatrix& p, FloatMatrix* out) = 0;
  virtual std::string Name() const = 0;
};

// fp32 products through quant::Sgemm (its backend rule; Eigen when forced with
// SINKSCOPE_SGEMM=eigen or quant::ForceSgemmBackend): the reference.
class EigenBackend : public MatmulBackend {
 public:
  explicit EigenBackend(const AttentionWeights& weights) : w_(weights) {}
  absl::Status Project(Projection which, const FloatMatrix& x, FloatMatrix* out) override;
  absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) override;
  absl::Status Scores(const FloatMatrix& q, FloatMatrix* out) override;
  absl::Status Mix(const FloatMatrix& p, FloatMatrix* out) override;
  std::string Name() const override { return "sgemm_fp32"; }

 private:
  const AttentionWeights& w_;
  const FloatMatrix* k_ = nullptr;
  const FloatMatrix* v_ = nullptr;
};

struct AttentionIntermediates {
  FloatMatrix q;                    // [T x H*D], bias and RoPE applied
  FloatMatrix k, v;                 // [prefix + T x KVH*D], K with RoPE
  std::vector<FloatMatrix> logits;  // per head [T x keys], scaled; invisible keys -inf
  std::vector<FloatMatrix> probs;   // per head [T x keys]
  FloatMatrix slot_mass;            // [H x T]: sink-logit mass, or the prefix keys' mass
  FloatMatrix gates;                // [T x H], kGated only
  FloatMatrix heads;                // [T x H*D]: per-head outputs (gated), before o_proj
};

// x [T x d_model] -> y [T x d_model]. `intermediates` may be null. Queries are processed in
// blocks of `query_block_rows` rows (0: chosen so that a score block holds ~1M floats); with
// per-tensor Q scales the int8 backend calibrates per block. Errors: shapes, weights.
absl::StatusOr<FloatMatrix> RunAttentionLayer(const AttentionSpec& spec,
                                              const AttentionWeights& weights,
                                              MatmulBackend& backend, const FloatMatrix& x,
                                              AttentionIntermediates* intermediates,
                                              int64_t query_block_rows = 0);

// Whether sequence key r is visible to sequence query t under the spec's mask.
inline bool KeyVisible(const AttentionSpec& s, int64_t t, int64_t r) {
  switch (s.mask) {
    case MaskKind::kNone:
      return true;
    case MaskKind::kCausal:
      return r <= t;
    case MaskKind::kSliding:
      return r <= t && t - s.window < r;
  }
  return false;
}

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ATTENTION_LAYER_H_
