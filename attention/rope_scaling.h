// File: attention/rope_scaling.h
//
// rope_scaling.h: RoPE scaling (context extension) as checkpoints configure it, and the one
// computation of RoPE's per-pair inverse frequencies and cos/sin multiplier from head size,
// theta and the scaling. Every RoPE application in the library (rope.h, the streaming cache)
// uses ComputeRopeFrequencies; without scaling it gives theta^(-2i/D), in double, exactly as
// before scaling existed.
//
// For head size D, pair index i < D/2 (the pair a rotation acts on: (2i, 2i+1) interleaved,
// (i, i + D/2) rotate_half), base inverse frequency f_i = theta^(-2i/D) and position p, the pair
// is rotated by the angle p * inv_freq_i, and cos and sin are both multiplied by
// attention_factor (so q.k scales by attention_factor^2):
//   kNone:   inv_freq_i = f_i, attention_factor 1.
//   kLinear: inv_freq_i = f_i / factor, attention_factor 1 (position interpolation).
//   kYarn (YaRN, Peng et al. 2023, "NTK-by-parts" plus the attention temperature):
//     corr(r) = D * ln(L / (2 pi r)) / (2 ln theta), L = original_max_position_embeddings;
//     low = corr(beta_fast), high = corr(beta_slow); truncate: low = floor(low),
//     high = ceil(high); then low = max(low, 0), high = min(high, D - 1); if low == high,
//     high += 0.001. ramp_i = clamp((i - low) / (high - low), 0, 1),
//     extrapolation weight m_i = 1 - ramp_i,
//     inv_freq_i = (f_i / factor) * (1 - m_i) + f_i * m_i.
//     attention_factor: the explicit value if set (> 0); else, when mscale and mscale_all_dim
//     are both set (> 0), g(factor, mscale) / g(factor, mscale_all_dim); else g(factor, 1), where
//     g(s, m) = 1 if s <= 1, else 0.1 * m * ln(s) + 1. (factor 32: 1.3466.)
//   kLlama3 (Llama 3.1): L = original_max_position_embeddings, wavelength w_i = 2 pi / f_i;
//     w_i < L / high_freq_factor: f_i; w_i > L / low_freq_factor: f_i / factor; otherwise, with
//     s = (L / w_i - low_freq_factor) / (high_freq_factor - low_freq_factor):
//     (1 - s) * f_i / factor + s * f_i. attention_factor 1.
//
// Sources checked (formulas and defaults only; this code is written from the formulas above):
//   - Hugging Face transformers, src/transformers/modeling_rope_utils.py:
//     _compute_linear_scaling_rope_parameters (inv_freq / factor), _compute_yarn_parameters
//     (find_correction_dim, find_correction_range with `truncate` (default true) deciding
//     floor/ceil, linear_ramp_factor with the +0.001 guard over arange(D/2),
//     inv_freq_extrapolation_factor = 1 - ramp, get_mscale, attention_factor / mscale /
//     mscale_all_dim, beta_fast 32 and beta_slow 1 defaults), _compute_llama3_parameters.
//     transformers versions differ on where `factor` comes from when the config also has
//     original_max_position_embeddings: some 4.5x releases used max_position_embeddings /
//     original_max_position_embeddings instead of `factor`; the current code uses `factor` and
//     falls back to that ratio only when `factor` is absent. We follow the current code (the
//     released gpt-oss configs have factor 32 = 131072 / 4096 either way).
//   - openai/gpt-oss gpt_oss/torch/model.py RotaryEmbedding._compute_concentration_and_inv_freq:
//     low / high = (D/2) ln(L / (beta 2 pi)) / ln(theta) without floor / ceil (= truncate
//     false), concentration 0.1 ln(factor) + 1 multiplying cos and sin.
// `dynamic` (NTK that depends on the sequence length) and `longrope` are not modelled.
//
// Example:
//   RopeScaling y;
//   y.type = RopeScalingType::kYarn;
//   y.factor = 32; y.beta_fast = 32; y.beta_slow = 1; y.truncate = false;
//   y.original_max_position_embeddings = 4096;
//   RopeFrequencies f = ComputeRopeFrequencies(/*head_dim=*/64, /*theta=*/150000, y);
//   // f.inv_freq: 32 values; f.attention_factor: 1 + 0.1 ln 32
#ifndef SINKSCOPE_ATTENTION_ROPE_SCALING_H_
#define SINKSCOPE_ATTENTION_ROPE_SCALING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::attention {

enum class RopeScalingType { kNone, kLinear, kYarn, kLlama3 };

// "none", "linear", "yarn", "llama3".
const char* RopeScalingTypeName(RopeScalingType t);
// The names above; "default" (Hugging Face's name for no scaling) is kNone.
absl::StatusOr<RopeScalingType> ParseRopeScalingType(absl::string_view name);

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  double factor = 1.0;            // linear, yarn, llama3: >= 1
  // yarn
  double beta_fast = 32.0;        // > 0, >= beta_slow
  double beta_slow = 1.0;         // > 0
  bool truncate = true;           // floor / ceil the correction range
  double attention_factor = 0.0;  // > 0: explicit; 0: derived from factor (and mscale)
  double mscale = 0.0;            // 0: absent
  double mscale_all_dim = 0.0;    // 0: absent
  // llama3
  double low_freq_factor = 1.0;   // > 0
  double high_freq_factor = 4.0;  // > low_freq_factor
  // yarn, llama3: the pretraining context length L (> 0)
  int64_t original_max_position_embeddings = 0;

  bool is_none() const { return type == RopeScalingType::kNone; }
  // "none", or the type and its parameters, e.g. "yarn(factor 32, beta 32/1, L 4096, ...)".
  std::string ToString() const;
  bool operator==(const RopeScaling& o) const;
  bool operator!=(const RopeScaling& o) const { return !(*this == o); }
};

// Errors (InvalidArgument, "rope scaling <type>: <problem>"): factor not finite or < 1; yarn:
// beta_fast / beta_slow not finite or <= 0, beta_fast < beta_slow, attention_factor, mscale or
// mscale_all_dim negative or not finite, original_max_position_embeddings <= 0; llama3:
// low_freq_factor <= 0, high_freq_factor <= low_freq_factor, original_max_position_embeddings
// <= 0; attention_factor / mscale set on a type other than yarn.
absl::Status ValidateRopeScaling(const RopeScaling& s);

struct RopeFrequencies {
  std::vector<double> inv_freq;   // [head_dim / 2]: pair i turns by p * inv_freq[i] at position p
  double attention_factor = 1.0;  // multiplies cos and sin
};

// The yarn attention factor (see the file comment); 1 for the other types.
double RopeAttentionFactor(const RopeScaling& s);

// head_dim even and > 0, theta > 0, `s` valid (ValidateRopeScaling; callers validate first).
RopeFrequencies ComputeRopeFrequencies(int head_dim, double theta, const RopeScaling& s);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ROPE_SCALING_H_
