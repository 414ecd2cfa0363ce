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
// attention::ReferenceAttention (causal or sliding window, GQA, RoPE rotate_half with the
// config's scaling for the Llama family and GPT-OSS, biases as configured). Llama: RMSNorm, SwiGLU down(silu(gate x) * up x). GPT-2:
// LayerNorm, learned positions, fc / proj with GELU-tanh, Conv1D weights ([in, out]) transposed
// to nn.Linear layout. GPT-OSS: RMSNorm, attention with per-head sink logits (kSinkLogit, S
// not scaled), q/k/v/o biases, sliding / full layers as configured, and a mixture-of-experts
// MLP: router logits r = x W_r^T + b_r [E]; the top-k experts (ties: lower index) weighted by
// the softmax over those k logits only; expert e: gu = x W_gu[e] + b_gu[e] [2 ffn] with
// gate = gu[0::2], up = gu[1::2] (interleaved); g = min(gate, limit), u = clamp(up, -limit,
// limit); y_e = ((u + 1) * g * sigmoid(alpha g)) W_d[e] + b_d[e] (alpha = 1.702). Experts are
// widened one at a time and only for the tokens routed to them.
// Logits = FinalNorm(h) W_lm^T (W_lm the embedding when tied).
// Every large product (attention projections, Q K^T, P V, the MLP's linears, the LM head) runs
// on quant::Sgemm (OpenBLAS by its measured rule; SINKSCOPE_SGEMM=eigen for the Eigen oracle);
// Forward widens weights and computes the NLL on quant::SgemmThreads() threads too.
//
// Tensor names as in Hugging Face checkpoints: llama `model.embed_tokens.weight`,
// `model.layers.{i}.{input_layernorm,post_attention_layernorm}.weight`,
// `model.layers.{i}.self_attn.{q,k,v,o}_proj.{weight,bias}`, `model.layers.{i}.mlp.{gate,up,
// down}_proj.weight`, `model.norm.weight`, `lm_head.weight`; gpt2 (with or without the
// `transformer.` prefix) `wte`, `wpe`, `h.{i}.ln_1`, `h.{i}.attn.c_attn`, `h.{i}.attn.c_proj`,
// `h.{i}.ln_2`, `h.{i}.mlp.c_fc`, `h.{i}.mlp.c_proj`, `ln_f` (`.weight`, `.bias`); gpt_oss (the
// Hugging Face GptOss port) the llama names with biases on q/k/v/o, plus
// `model.layers.{i}.self_attn.sinks` [H], `model.layers.{i}.mlp.router.{weight [E, d], bias [E]}`,
// `model.layers.{i}.mlp.experts.gate_up_proj` [E, d, 2 ffn], `...gate_up_proj_bias` [E, 2 ffn],
// `...down_proj` [E, ffn, d], `...down_proj_bias` [E, d] (note: [in, out] per expert, not
// nn.Linear); or MXFP4 experts: `gate_up_proj_blocks` U8 [E, 2 ffn, d/32, 16] with
// `gate_up_proj_scales` U8 [E, 2 ffn, d/32], `down_proj_blocks` [E, d, ffn/32, 16] with
// `down_proj_scales` [E, d, ffn/32]: 32 FP4 E2M1 values a block (low nibble first; magnitudes
// 0, 0.5, 1, 1.5, 2, 3, 4, 6, bit 3 the sign) times 2^(scale - 127), rows = output features;
// decoded on the fly one expert at a time.
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
#include <memory>
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

class Transformer;

// The linear layers of the MLP, for TransformerLayer::Mlp with a LinearFn.
enum class MlpLinear {
  kGate,         // llama gate_proj
  kUp,           // llama up_proj
  kDown,         // llama down_proj
  kFc,           // gpt2 mlp.c_fc
  kProj,         // gpt2 mlp.c_proj
  kExpertGateUp, // gpt_oss expert gate_up_proj (one expert)
  kExpertDown,   // gpt_oss expert down_proj (one expert)
};
const char* MlpLinearName(MlpLinear which);

// y = x W^T for W [out x in] (nn.Linear layout), or y = x W when `w_in_out` (W [in x out]: GPT-2
// Conv1D, GPT-OSS experts); biases are added by the caller. `expert` is the expert index (-1
// outside MoE). A quantized forward pass routes every MLP product through one of these.
using LinearFn = std::function<absl::StatusOr<FloatMatrix>(
    MlpLinear which, int expert, const FloatMatrix& x, const FloatMatrix& w, bool w_in_out)>;

// One layer of a Transformer with its weights widened to float, as Forward runs it: Forward is
// h' = m + Mlp(MlpInput(m)), m = h + attention().Forward(AttentionInput(h)). For decoders that run
// the layers themselves (model/streaming_decoder.h). Valid while its Transformer lives.
class TransformerLayer {
 public:
  const attention::ReferenceAttention& attention() const { return *attention_; }
  FloatMatrix AttentionInput(const FloatMatrix& h) const;  // Norm1(h)
  FloatMatrix MlpInput(const FloatMatrix& m) const;        // Norm2(m)
  FloatMatrix Mlp(const FloatMatrix& x) const;
  // The same MLP with each product x W^T computed by `linear` (the router, activations, biases
  // and expert weighting stay as in Mlp). Mlp(x) == Mlp(x, fp32 product) exactly.
  absl::StatusOr<FloatMatrix> Mlp(const FloatMatrix& x, const LinearFn& linear) const;
  int index() const { return layer_; }
  // The widened norm gains (Norm1 before attention, Norm2 before the MLP), for remedies that fold
  // them into the next linear layers (rotation).
  const Eigen::VectorXf& norm1_weight() const;
  const Eigen::VectorXf& norm2_weight() const;
  // The dense MLP's input weights in nn.Linear layout [out x in] (llama gate and up, gpt2 c_fc
  // transposed); empty for the MoE MLP. For remedies that need every weight sharing the input.
  std::vector<FloatMatrix> MlpInputWeights() const;

  struct Floats;  // the widened norm / MLP weights (transformer.cc)

 private:
  friend class Transformer;
  TransformerLayer() = default;

  const Transformer* model_ = nullptr;
  int layer_ = 0;
  std::shared_ptr<const Floats> floats_;
  std::shared_ptr<const attention::ReferenceAttention> attention_;
};

// -log softmax(logits)[next_id] over one row of `vocab` logits, in double.
double NextTokenNll(const float* logits, int64_t vocab, int32_t next_id);

class Transformer {
 public:
  // Finds and checks every tensor the config needs (shapes, floating dtype): errors name the
  // tensor. Nothing is widened here.
  static absl::StatusOr<Transformer> Create(const ModelConfig& config, TensorSource source);

  // Errors: empty input, token ids outside [0, vocab), more tokens than gpt2's n_positions.
  absl::StatusOr<ForwardResult> Forward(const std::vector<int32_t>& token_ids,
                                        const ForwardHooks& hooks = {}) const;

  const ModelConfig& config() const { return config_; }

  // The pieces Forward is made of. Embed: the ids' embedding rows (gpt2: plus positions
  // 0..T-1); same errors as Forward. Layer: layer l widened to float. Logits: final norm and LM
  // head of hidden states [rows x d_model] -> [rows x vocab].
  absl::StatusOr<FloatMatrix> Embed(const std::vector<int32_t>& token_ids) const;
  absl::StatusOr<TransformerLayer> Layer(int layer) const;
  FloatMatrix Logits(const FloatMatrix& hidden) const;

 private:
  friend class TransformerLayer;
  // Views of one layer's tensors in file layout; absent optional ones have data == nullptr.
  struct LayerViews {
    TypedTensorView norm1_w, norm1_b, norm2_w, norm2_b;
    TypedTensorView q_w, k_w, v_w, o_w, q_b, k_b, v_b, o_b;  // llama
    TypedTensorView qkv_w, qkv_b;                            // gpt2 c_attn ([d, 3d], [3d])
    TypedTensorView gate_w, up_w, down_w;                    // llama
    TypedTensorView fc_w, fc_b, proj_w, proj_b;              // gpt2 Conv1D
    TypedTensorView sinks, router_w, router_b;               // gpt_oss
    TypedTensorView kv_k, kv_v, sink_tokens, gate_w_attn, gate_b_attn;  // sinkscope variants
    TypedTensorView gate_up_w, gate_up_b, experts_down_w, experts_down_b;
    TypedTensorView gate_up_s, experts_down_s;  // MXFP4 scales; then *_w are the U8 blocks
  };

  Transformer() = default;
  // Layer(l), widening its weights into `storage` (a previous layer's, sole owner) when given.
  absl::StatusOr<TransformerLayer> Layer(int layer,
                                         std::shared_ptr<TransformerLayer::Floats> storage) const;

  ModelConfig config_;
  TypedTensorView embed_, positions_, final_norm_w_, final_norm_b_, lm_head_;
  std::vector<LayerViews> layers_;
};

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_TRANSFORMER_H_
