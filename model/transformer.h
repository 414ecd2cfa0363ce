// File: model/transformer.h
//
// transformer.h: the fp32 forward pass of a decoder-only checkpoint (Llama family, GPT-2) with
// hooks that see every layer's hidden states and, on request, its attention intermediates.
//
// Weights stay in their file dtype (views from a TensorSource, e.g. a mapped safetensors file)
// and are widened to float one layer at a time: a layer's attention::AttentionWeights and MLP
// matrices are built when the layer runs and dropped after it, the embedding is read only at the
// tokens' rows and the LM head in row blocks, so peak memory stays near the mapped size plus one
// layer in float plus the activations.
//
// Per layer (pre-norm): a = Attn(Norm1(h)); m = h + a; h' = m + Mlp(Norm2(m)). Attention is
// attention::ReferenceAttention (causal or sliding window, GQA, RoPE rotate_half for the Llama
// family, biases as configured). Llama: RMSNorm, SwiGLU down(silu(gate x) * up x). GPT-2:
// LayerNorm, learned positions, fc / proj with GELU-tanh, Conv1D weights ([in, out]) transposed
// to nn.Linear layout. Logits = FinalNorm(h) W_lm^T (W_lm the embedding when tied).
//
// Tensor names as in Hugging Face checkpoints: llama `model.embed_tokens.weight`,
// `model.layers.{i}.{input_layernorm,post_attention_layernorm}.weight`,
// `model.layers.{i}.self_attn.{q,k,v,o}_proj.{weight,bias}`, `model.layers.{i}.mlp.{gate,up,
// down}_proj.weight`, `model.norm.weight`, `lm_head.weight`; gpt2 (with or without the
// `transformer.` prefix) `wte`, `wpe`, `h.{i}.ln_1`, `h.{i}.attn.c_attn`, `h.{i}.attn.c_proj`,
// `h.{i}.ln_2`, `h.{i}.mlp.c_fc`, `h.{i}.mlp.c_proj`, `ln_f` (`.weight`, `.bias`).
//
// Example:
//   TensorSource src = [&](const std::string& name) { return checkpoint.View(name); };
//   absl::StatusOr<Transformer> t = Transformer::Create(config, src);
//   ForwardHooks hooks;
//   hooks.on_layer = [](int layer, const LayerCapture& c) { Scan(layer, c.block_output); };
//   absl::StatusOr<ForwardResult> r = t->Forward({1, 2, 3}, hooks);
#ifndef SINKSCOPE_MODEL_TRANSFORMER_H_
#define SINKSCOPE_MODEL_TRANSFORMER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attention/attention_layer.h"
#include "attention/reference_attention.h"
#include "model/dtype.h"
#include "model/model_config.h"
#include "quant/tensor.h"

namespace sinkscope::model {

using quant::FloatMatrix;

// name -> view of the tensor in its file dtype. Must return absl::NotFoundError for an absent
// tensor (other errors are passed on). The viewed data must outlive the Transformer.
using TensorSource = std::function<absl::StatusOr<TypedTensorView>(const std::string& name)>;

// What a layer hook sees; all [T x d_model] except the intermediates. Valid during the call.
struct LayerCapture {
  const FloatMatrix& block_input;       // residual stream entering the layer
  const FloatMatrix& attention_input;   // Norm1(block_input)
  const FloatMatrix& attention_output;  // after o_proj (+ bias)
  const FloatMatrix& mlp_input;         // Norm2(block_input + attention_output)
  const FloatMatrix& mlp_output;
  const FloatMatrix& block_output;      // residual stream leaving the layer
  // Q/K/V, probabilities per head, slot mass; null unless captured for this layer.
  const attention::AttentionIntermediates* attention;
  // The layer's attention (spec and widened weights), e.g. to replay attention_input in int8.
  const attention::ReferenceAttention* attention_layer;
};

struct ForwardHooks {
  // Called once per layer, in order, after the layer has run.
  std::function<void(int layer, const LayerCapture& capture)> on_layer;
  // Fill LayerCapture::attention for every layer ...
  bool capture_attention = false;
  // ... or, when set, only for the layers it accepts (overrides capture_attention).
  std::function<bool(int layer)> capture_attention_for_layer;
};

struct ForwardResult {
  FloatMatrix logits;        // [T x vocab]
  double mean_nll = 0.0;     // mean over t < T-1 of -log softmax(logits[t])[ids[t+1]]; NaN if T = 1
  int64_t num_predicted = 0; // T - 1
};

class Transformer {
 public:
  // Finds and checks every tensor the config needs (shapes, floating dtype): errors name the
  // tensor. Nothing is widened here.
  static absl::StatusOr<Transformer> Create(const ModelConfig& config, TensorSource source);

  // Errors: empty input, token ids outside [0, vocab), more tokens than gpt2's n_positions.
  absl::StatusOr<ForwardResult> Forward(const std::vector<int32_t>& token_ids,
                                        const ForwardHooks& hooks = {}) const;

  const ModelConfig& config() const { return config_; }

 private:
  // Views of one layer's tensors in file layout; absent optional ones have data == nullptr.
  struct LayerViews {
    TypedTensorView norm1_w, norm1_b, norm2_w, norm2_b;
    TypedTensorView q_w, k_w, v_w, o_w, q_b, k_b, v_b, o_b;  // llama
    TypedTensorView qkv_w, qkv_b;                            // gpt2 c_attn ([d, 3d], [3d])
    TypedTensorView gate_w, up_w, down_w;                    // llama
    TypedTensorView fc_w, fc_b, proj_w, proj_b;              // gpt2 Conv1D
  };

  Transformer() = default;

  ModelConfig config_;
  TypedTensorView embed_, positions_, final_norm_w_, final_norm_b_, lm_head_;
  std::vector<LayerViews> layers_;
};

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_TRANSFORMER_H_
