// File: train/tiny_transformer.h
//
// tiny_transformer.h: the trainable tiny decoder of train/, written on libtorch (autograd), one
// class for every attention variant of attention::Variant. It is the second, independent
// implementation of what model::Transformer computes for a `sinkscope` checkpoint: the tests
// check the two agree to 1e-4 on trained weights.
//
// Layer l (x: [B, T, d]):
//   a = RMSNorm(h) * w_in;  h += Attention_l(a);  h += W_down(silu(W_gate m) * W_up m),
//   m = RMSNorm(h) * w_post;  logits = W_head (RMSNorm(h) * w_final)
// Attention: q, k, v projections (no bias), RoPE rotate-half (theta^(-2i/D)), GQA (query head h
// reads kv head h / (H / KVH)), scores q.k / sqrt(D), mask (key j visible to query t iff j <= t
// and t - W < j), then the variant:
//   vanilla             softmax
//   sink_tokens         n learnable embeddings [n, d] per layer prepended to the K/V input at
//                       positions 0..n-1 (queries at n + t), always visible
//   kv_bias             a learnable key k' and value v' per kv head prepended, no RoPE, visible
//   sink_logit          a learnable logit S_h per head in the softmax denominator (unscaled)
//   softmax1            exp(z) / (1 + sum exp(z))
//   clipped_softmax     clamp((zeta - gamma) softmax + gamma, 0, 1)
//   gated               sigmoid(a W_g^T + b_g) [per head] times the head's output
//   sigmoid             sigmoid(z - ln n), n the keys the query sees, no normalization
// Parameter names are those of the checkpoint (Hugging Face Llama names plus
// `self_attn.{sinks,k_bias,v_bias,sink_tokens,gate_proj.*}`), see model/model_config.h.
//
// Example:
//   TinyTransformer m(config, /*seed=*/1);
//   torch::Tensor logits = m.Forward(ids);          // ids: int64 [B, T]
//   absl::Status st = m.SaveCheckpoint("/tmp/run/step-100", extra_json);
#ifndef SINKSCOPE_TRAIN_TINY_TRANSFORMER_H_
#define SINKSCOPE_TRAIN_TINY_TRANSFORMER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "train/tiny_model_config.h"

namespace sinkscope::train {

class TinyTransformer : public torch::nn::Module {
 public:
  TinyTransformer(const TinyModelConfig& config, uint64_t seed);

  // ids: int64 [B, T] -> logits [B, T, vocab].
  torch::Tensor Forward(const torch::Tensor& ids);

  const TinyModelConfig& config() const { return config_; }
  // (checkpoint name, parameter) in a fixed order.
  const std::vector<std::pair<std::string, torch::Tensor>>& named() const { return named_; }
  // Parameters that AdamW decays (matrices, not norms, sinks or biases).
  std::vector<torch::Tensor> DecayedParameters() const;
  std::vector<torch::Tensor> UndecayedParameters() const;

  // Writes `dir`/model.safetensors (F32) and `dir`/config.json atomically; creates `dir`.
  absl::Status SaveCheckpoint(const std::string& dir, absl::string_view extra_json) const;
  // Reads parameters back from a checkpoint written by SaveCheckpoint (same config).
  absl::Status LoadCheckpoint(const std::string& dir);

 private:
  torch::Tensor Param(const std::string& name, torch::Tensor init, bool decay);
  torch::Tensor RmsNorm(const torch::Tensor& x, const torch::Tensor& w) const;
  torch::Tensor Attention(int layer, const torch::Tensor& a);
  torch::Tensor Rope(const torch::Tensor& x, int64_t first_position) const;  // [B, H, T, D]

  struct Layer {
    torch::Tensor norm_in, q, k, v, o, norm_post, gate, up, down;
    torch::Tensor sinks, k_bias, v_bias, sink_tokens, gate_w, gate_b;
  };
  TinyModelConfig config_;
  torch::Tensor embed_, norm_final_, lm_head_;
  std::vector<Layer> layers_;
  std::vector<std::pair<std::string, torch::Tensor>> named_;
  std::vector<bool> decay_;
  torch::Tensor inv_freq_;  // [D/2], double-computed, stored float
};

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_TINY_TRANSFORMER_H_
