// File: attention/int8_attention.h
//
// int8_attention.h: the attention layer with its five products in int8 through quant::Int8Gemm
// (exact integer GEMMs; see quant/README.md), each operand under its own QuantScheme. RoPE,
// softmax, the sink terms and the gate stay fp32 (attention_layer.h).
//
// Operands: projections: activations (x, head outputs) x W^T (per output feature);
// Q K^T: Q x K^T; P V: P x V. K per-channel (one scale per head-dim channel) and V per-token (one
// scale per key) put their scales on the GEMM's reduction axis; they are folded exactly into the
// other operand before it is quantized (Q~ = Q diag(s_K); P~ = P diag(s_V) / max s_V, still in
// [0, 1]), and asymmetric zero points become a per-row correction. P is quantized with the fixed
// scale 1 / (2^prob_bits - 1), zero point 0.
// keep_sink_kv_fp32 = n (IntactKV, PrefixQuant): the first n keys (sink tokens or the KV-bias slot
// first, then the sequence) keep fp32 K and V, take no part in the K/V scales, and their P V
// part runs in fp32.
//
// Example:
//   AttentionQuantConfig cfg;             // sensible defaults
//   cfg.keep_sink_kv_fp32 = 1;
//   absl::StatusOr<Int8Attention> layer = Int8Attention::Create(spec, weights, cfg);
//   absl::StatusOr<FloatMatrix> y = layer->Forward(x);
//   absl::StatusOr<Int8Comparison> c = CompareInt8(*reference, *layer, x);
#ifndef SINKSCOPE_ATTENTION_INT8_ATTENTION_H_
#define SINKSCOPE_ATTENTION_INT8_ATTENTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attention/attention_layer.h"
#include "attention/reference_attention.h"
#include "proto/sinkscope.pb.h"
#include "quant/quant_scheme.h"

namespace sinkscope::attention {

struct AttentionQuantConfig {
  // W^T [in x out]: one scale per output feature.
  quant::QuantScheme weights = quant::QuantScheme::PerChannel(1);
  // x and the concatenated head outputs: A of the projections.
  quant::QuantScheme activations = quant::QuantScheme::PerToken().Asymmetric();
  quant::QuantScheme query = quant::QuantScheme::PerToken();
  // K and V [keys x D]: per-channel is per head-dim channel (axis 1), per-token per key (axis 0).
  quant::QuantScheme key = quant::QuantScheme::PerChannel(1);
  quant::QuantScheme value = quant::QuantScheme::PerToken();
  int prob_bits = 8;
  int keep_sink_kv_fp32 = 0;

  std::string ToString() const;
};

absl::Status ValidateQuantConfig(const AttentionQuantConfig& config);

class Int8Attention {
 public:
  // Quantizes and prepares the projection weights once.
  static absl::StatusOr<Int8Attention> Create(const AttentionSpec& spec, AttentionWeights weights,
                                              const AttentionQuantConfig& config = {});

  absl::StatusOr<FloatMatrix> Forward(const FloatMatrix& x,
                                      AttentionIntermediates* intermediates = nullptr) const;

  const AttentionSpec& spec() const { return spec_; }
  const AttentionQuantConfig& config() const { return config_; }
  // oneDNN implementation and mitigation of the projection GEMMs, e.g. "gemm:jit split_weights".
  std::string gemm_description() const;

 private:
  class Backend;
  AttentionSpec spec_;
  AttentionQuantConfig config_;
  std::shared_ptr<const AttentionWeights> weights_;
  std::shared_ptr<Backend> backend_;
};

struct Int8Comparison {
  // Stages in order: q_proj, k_proj, v_proj (after bias and RoPE), logits (visible entries),
  // probs, heads (per-head outputs before o_proj), output. Each against the reference.
  std::vector<sinkscope::v1::QuantError> stages;
  FloatMatrix reference, int8;
};

absl::StatusOr<Int8Comparison> CompareInt8(const ReferenceAttention& reference,
                                           const Int8Attention& int8, const FloatMatrix& x);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_INT8_ATTENTION_H_
