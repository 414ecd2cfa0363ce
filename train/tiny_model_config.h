// File: train/tiny_model_config.h
//
// tiny_model_config.h: the architecture of a tiny decoder trained by train/, and its config.json
// (model_type "sinkscope"), which model/ReadModelConfig reads back. The architecture is Llama's
// (RMSNorm pre-norm, RoPE rotate-half, SwiGLU MLP, untied LM head, no projection biases) with one
// attention variant in every layer (attention::Variant: vanilla softmax, learnable sink tokens,
// KV bias, sink logit, softmax1, clipped softmax, gated attention) and a mask pattern: full causal
// in every layer, a sliding window W in every layer, or GPT-OSS's alternation (sliding on even
// layers, full on odd). No libtorch here.
//
// Example:
//   TinyModelConfig c;
//   c.variant = attention::Variant::kSinkLogit;
//   c.masks = MaskPattern::kAlternating; c.window = 16;
//   std::string json = TinyConfigJson(c, /*extra=*/"");
#ifndef SINKSCOPE_TRAIN_TINY_MODEL_CONFIG_H_
#define SINKSCOPE_TRAIN_TINY_MODEL_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attention/attention_spec.h"

namespace sinkscope::train {

enum class MaskPattern { kFull, kSliding, kAlternating };
const char* MaskPatternName(MaskPattern m);
absl::StatusOr<MaskPattern> ParseMaskPattern(absl::string_view name);

struct TinyModelConfig {
  int vocab_size = 64;
  int hidden_size = 64;
  int num_layers = 2;
  int num_heads = 4;
  int num_kv_heads = 4;
  int intermediate_size = 128;
  int max_position_embeddings = 512;
  double rms_norm_eps = 1e-5;
  float rope_theta = 10000.0f;
  attention::Variant variant = attention::Variant::kVanilla;
  int num_sink_tokens = 1;        // kSinkTokens
  float clip_zeta = 1.0f;         // kClippedSoftmax (Bondarenko et al.: zeta = 1, gamma < 0)
  float clip_gamma = -0.03f;
  MaskPattern masks = MaskPattern::kFull;
  int window = 16;                // kSliding / kAlternating
  // Initialisation (not in config.json; PlanFingerprint includes it): the token embeddings'
  // standard deviation. Small embeddings (GPT-2 and Llama use 0.02) keep the typical residual
  // entry small, the scale against which massive activations are measured.
  double embed_init_std = 1.0;

  int head_dim() const { return hidden_size / num_heads; }
  // Sliding window of `layer`, 0 for full causal attention.
  int LayerWindow(int layer) const;
};

absl::Status ValidateTinyConfig(const TinyModelConfig& c);

// config.json text; `extra_json_members` (e.g. "\"sinkscope_task\": {...}") is appended as more
// members of the top-level object when not empty.
std::string TinyConfigJson(const TinyModelConfig& c, absl::string_view extra_json_members);

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_TINY_MODEL_CONFIG_H_
