// File: attention/attention_spec.h
//
// attention_spec.h: the shape and behaviour of one attention layer: heads (MHA, GQA, MQA), head
// size, softmax scale, projection biases, RoPE (both layouts checkpoints use, and its scaling:
// linear, YaRN, Llama 3; rope_scaling.h), the mask (causal, sliding window, none) and the variant
// (how surplus attention is absorbed).
//
// Variants (one enum value each, one layer implementation for all):
//   kVanilla:        softmax(q.k * scale)
//   kSinkTokens:     n prepended tokens (learnable or given embeddings) whose K/V the layer
//                    computes; visible to every query (StreamingLLM, Xiao et al. 2024)
//   kKvBias:         a per-kv-head key k' and value v' prepended, visible to every query, no RoPE
//                    (Sun et al. 2024, Eq. 3)
//   kSinkLogit:      per-head logit S_h added to the softmax denominator, not scaled
//                    (GPT-OSS): p_j = exp(z_j - m) / (sum_i exp(z_i - m) + exp(S_h - m))
//   kSoftmax1:       exp(z_j) / (1 + sum_i exp(z_i)) (Miller), i.e. a sink logit of 0
//   kClippedSoftmax: clip((zeta - gamma) softmax(z) + gamma, 0, 1) (Bondarenko et al. 2023, Eq. 4)
//   kGated:          sigmoid(x . w_g[h] + b_g[h]) * softmax(.) V per head (Bondarenko Eq. 5)
//   kSigmoid:        p_j = sigmoid(z_j - ln n), no normalization (Gu et al. 2024, "When attention
//                    sink emerges"; the bias of Ramapuram et al. 2024): n is the number of keys
//                    the query sees (causal: t + 1; sliding: min(t + 1, W); a streaming cache: the
//                    cached keys), so a row of equal logits sums to sigmoid(0 - ln n) n ~ 1 for
//                    large n. Rows need not sum to 1: the weights are in (0, 1) each.
// Mask: key k is visible to query q iff k <= q (causal) and q - W < k (sliding window W), over
// the sequence's own positions; prepended sink tokens and the KV-bias slot are always visible.
//
// Example:
//   AttentionSpec s;
//   s.d_model = 1024; s.num_heads = 16; s.num_kv_heads = 4; s.head_dim = 64;
//   s.mask = MaskKind::kSliding; s.window = 128;
//   s.rope_theta = 10000; s.rope_layout = RopeLayout::kRotateHalf;
//   s.rope_scaling.type = RopeScalingType::kLinear; s.rope_scaling.factor = 4;  // optional
//   s.variant = Variant::kSinkLogit;
#ifndef SINKSCOPE_ATTENTION_ATTENTION_SPEC_H_
#define SINKSCOPE_ATTENTION_ATTENTION_SPEC_H_

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attention/rope_scaling.h"

namespace sinkscope::attention {

enum class Variant {
  kVanilla,
  kSinkTokens,
  kKvBias,
  kSinkLogit,
  kSoftmax1,
  kClippedSoftmax,
  kGated,
  kSigmoid,
};

enum class MaskKind { kCausal, kSliding, kNone };

// kInterleaved rotates pairs (2i, 2i+1) (GPT-J, Meta's original Llama); kRotateHalf rotates
// (i, i + D/2) (Hugging Face Llama, Qwen, GPT-OSS).
enum class RopeLayout { kInterleaved, kRotateHalf };

const char* VariantName(Variant v);
absl::StatusOr<Variant> ParseVariant(absl::string_view name);
const char* RopeLayoutName(RopeLayout l);
absl::StatusOr<RopeLayout> ParseRopeLayout(absl::string_view name);

struct AttentionSpec {
  int d_model = 0;
  int num_heads = 0;
  int num_kv_heads = 0;   // divides num_heads; == num_heads: MHA, 1: MQA
  int head_dim = 0;
  float softmax_scale = 0.0f;  // 0: 1 / sqrt(head_dim)
  bool q_bias = false, k_bias = false, v_bias = false, o_bias = false;
  float rope_theta = 0.0f;     // 0: no RoPE
  RopeLayout rope_layout = RopeLayout::kRotateHalf;
  RopeScaling rope_scaling;    // none by default; only with rope_theta > 0
  MaskKind mask = MaskKind::kCausal;
  int window = 0;              // kSliding only
  Variant variant = Variant::kVanilla;
  int num_sink_tokens = 0;     // kSinkTokens
  float clip_zeta = 1.0f;      // kClippedSoftmax: zeta >= 1
  float clip_gamma = 0.0f;     //                  gamma <= 0

  int group() const { return num_kv_heads > 0 ? num_heads / num_kv_heads : 0; }
  float scale() const {
    return softmax_scale > 0.0f ? softmax_scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
  }
  // Keys that precede the sequence: sink tokens or the KV-bias slot.
  int prefix_keys() const {
    return variant == Variant::kSinkTokens ? num_sink_tokens : (variant == Variant::kKvBias ? 1 : 0);
  }
  std::string ToString() const;
};

absl::Status ValidateSpec(const AttentionSpec& spec);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ATTENTION_SPEC_H_
