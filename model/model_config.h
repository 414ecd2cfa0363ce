// File: model/model_config.h
//
// model_config.h: the architecture of a checkpoint, read from its Hugging Face config.json by
// `model_type`. Supported: the Llama family (llama, mistral, qwen2: RMSNorm, RoPE rotate_half,
// GQA, SwiGLU MLP) and gpt2 (LayerNorm, learned positions, GELU-tanh MLP, Conv1D weights, tied
// LM head) and gpt_oss (openai/gpt-oss: RMSNorm, RoPE rotate_half, GQA, per-head sink logits,
// q/k/v/o biases, alternating sliding / full layers, a mixture-of-experts MLP with a clamped
// SwiGLU) and sinkscope (tiny models trained by train/: the Llama architecture with one attention
// variant in every layer, `attention_variant` + its parameters, `layer_types` / `sliding_window`
// as mistral). Everything else is rejected with an error that lists what is supported.
//
// gpt_oss keys (defaults as transformers' GptOssConfig): hidden_size, num_hidden_layers,
// num_attention_heads, intermediate_size (the expert width), vocab_size, num_local_experts,
// num_experts_per_tok (or `experts_per_token`) required; num_key_value_heads (= heads),
// head_dim (64), rms_norm_eps (1e-5), rope_theta (150000), sliding_window (128), layer_types
// (default: sliding on even layers, full on odd), attention_bias (true: q/k/v/o biases),
// tie_word_embeddings (false), swiglu_limit (7.0), rope_scaling (the released checkpoints carry
// YaRN: {"rope_type": "yarn", "factor": 32, "beta_fast": 32, "beta_slow": 1,
// "original_max_position_embeddings": 4096, "truncate": false}; an absent or null rope_scaling
// is plain RoPE here, whereas transformers' GptOssConfig would fill in its YaRN default). Not
// supported, rejected naming the key: `quantization_config` other than quant_method mxfp4 (the
// MXFP4 expert tensors are decoded by transformer.h).
//
// Defaults follow transformers: num_key_value_heads = num_attention_heads, head_dim =
// hidden_size / num_attention_heads, rope_theta = 10000, rms_norm_eps = 1e-6,
// tie_word_embeddings = false (gpt2: true), attention_bias = false (qwen2: q/k/v true, o false),
// sliding window: mistral `sliding_window` (null = none); qwen2 only when `use_sliding_window`,
// and then on layers >= `max_window_layers` (or as `layer_types` says).
//
// RoPE scaling (llama, mistral, qwen2, gpt_oss): `rope_scaling` and / or (newer transformers)
// `rope_parameters`, an object or null, with the type in `rope_type` (or legacy `type`); when
// both keys are given they must agree. Types (semantics and sources: attention/rope_scaling.h):
//   "default": none.
//   "linear":  factor (required).
//   "yarn":    factor (required unless original_max_position_embeddings is given, then
//              max_position_embeddings / original_max_position_embeddings), beta_fast (32),
//              beta_slow (1), original_max_position_embeddings (max_position_embeddings),
//              truncate (true), attention_factor (derived: 0.1 ln(factor) + 1), mscale and
//              mscale_all_dim (as transformers: both set -> attention factor
//              g(factor, mscale) / g(factor, mscale_all_dim)).
//   "llama3":  factor, low_freq_factor, high_freq_factor, original_max_position_embeddings (all
//              required).
// Other types ("dynamic", "longrope", ...) are rejected with an error naming the key, the value
// and the supported types; so are missing or invalid parameters (factor < 1, beta_fast <
// beta_slow, high_freq_factor <= low_freq_factor, ...). Keys a type does not use are ignored,
// as transformers does.
// Errors name the key: missing, wrong type, or inconsistent (heads not dividing hidden_size...).
//
// Example:
//   absl::StatusOr<ModelConfig> c = ParseModelConfig(config_json_text);
//   attention::AttentionSpec spec = AttentionSpecForLayer(*c, /*layer=*/0);
#ifndef SINKSCOPE_MODEL_MODEL_CONFIG_H_
#define SINKSCOPE_MODEL_MODEL_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attention/attention_spec.h"
#include "attention/rope_scaling.h"
#include "base/json.h"

namespace sinkscope::model {

enum class ModelFamily { kLlama, kGpt2, kGptOss };  // kLlama: llama, mistral, qwen2
enum class NormKind { kRmsNorm, kLayerNorm };
// kSwiGlu: down(silu(gate x) * up x); kGeluTanh: proj(gelu_tanh(fc x)); kMoeClampedSwiGlu
// (gpt_oss): top-k routed experts, each (clamp(up) + 1) * g sigmoid(alpha g), g = min(gate, limit).
enum class MlpKind { kSwiGlu, kGeluTanh, kMoeClampedSwiGlu };

struct ModelConfig {
  std::string model_type;  // "llama", "mistral", "qwen2", "gpt2", "gpt_oss"
  ModelFamily family = ModelFamily::kLlama;
  NormKind norm = NormKind::kRmsNorm;
  MlpKind mlp = MlpKind::kSwiGlu;

  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  int max_position_embeddings = 0;  // gpt2: n_positions (a hard limit: learned positions)
  double norm_eps = 1e-6;
  float rope_theta = 0.0f;          // 0: no RoPE (gpt2)
  attention::RopeScaling rope_scaling;  // none, linear, yarn, llama3
  bool tie_word_embeddings = false;
  bool qkv_bias = false;            // q, k and v projections
  bool o_bias = false;
  bool mlp_bias = false;            // gpt2: true
  std::vector<int> layer_windows;   // per layer: sliding window W, 0 = full causal
  bool attention_sinks = false;     // gpt_oss: per-head sink logits (attention kSinkLogit)
  // sinkscope (models trained by train/): the attention variant of every layer and its
  // parameters. Extra tensors per layer: kSinkLogit `self_attn.sinks` [H]; kKvBias
  // `self_attn.k_bias`, `self_attn.v_bias` [KVH, D]; kSinkTokens `self_attn.sink_tokens`
  // [n, hidden]; kGated `self_attn.gate_proj.weight` [H, hidden] and `.bias` [H].
  attention::Variant attention_variant = attention::Variant::kVanilla;
  int num_sink_tokens = 0;
  float clip_zeta = 1.0f;
  float clip_gamma = 0.0f;
  // Mixture of experts (kMoeClampedSwiGlu); intermediate_size is one expert's width.
  int num_experts = 0;
  int experts_per_token = 0;
  float swiglu_limit = 0.0f;
  float swiglu_alpha = 0.0f;        // 1.702 (fixed in gpt-oss, not a config key)

  std::string ToString() const;
};

// Parses config.json text. Errors: JSON syntax, unsupported model_type, missing / mistyped /
// inconsistent keys (named), unsupported or invalid rope_scaling.
absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view config_json);
absl::StatusOr<ModelConfig> ModelConfigFromJson(const JsonValue& config);

// The attention::AttentionSpec of one layer: vanilla softmax, causal or sliding window, GQA,
// RoPE rotate_half with the config's scaling (llama family, gpt_oss), biases; gpt_oss:
// kSinkLogit.
attention::AttentionSpec AttentionSpecForLayer(const ModelConfig& config, int layer);

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_MODEL_CONFIG_H_
