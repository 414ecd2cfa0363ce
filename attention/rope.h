// File: attention/rope.h
//
// rope.h: rotary position embedding (Su et al.) in both layouts checkpoints use, with the RoPE
// scaling of rope_scaling.h. For head size D and frequency index i < D/2 the angle is
// pos * inv_freq[i] (theta^(-2i/D) without scaling); the rotated pair is
// A * (x_a cos - x_b sin, x_a sin + x_b cos) with (a, b) = (2i, 2i+1) for kInterleaved and
// (i, i + D/2) for kRotateHalf, and A the attention factor (1 except for YaRN: cos and sin are
// both scaled, so q.k scales by A^2). Angles are computed in double (positions reach 1e5+).
// Compute the frequencies once per layer (RopeInverseFrequencies) and apply them to many rows.
//
// Example:
//   const RopeFrequencies freq = RopeInverseFrequencies(spec);
//   ApplyRope(&q, positions, spec.num_heads, spec.head_dim, freq, spec.rope_layout);
#ifndef SINKSCOPE_ATTENTION_ROPE_H_
#define SINKSCOPE_ATTENTION_ROPE_H_

#include <cstdint>
#include <vector>

#include "attention/attention_spec.h"
#include "attention/rope_scaling.h"
#include "quant/tensor.h"

namespace sinkscope::attention {

// The spec's inverse frequencies (head_dim / 2 of them) and attention factor, from rope_theta
// and rope_scaling; no frequencies when rope_theta is 0. The spec is assumed valid (ValidateSpec).
RopeFrequencies RopeInverseFrequencies(const AttentionSpec& spec);

// c[i], s[i] = A cos(position * inv_freq[i]), A sin(...), i < inv_freq.size(); angle in double.
void RopeCosSin(int64_t position, const RopeFrequencies& freq, float* c, float* s);

// Rotates every head of every row of x [rows x heads*head_dim]; row r has position positions[r].
// head_dim == 2 * freq.inv_freq.size().
void ApplyRope(quant::FloatMatrix* x, const std::vector<int64_t>& positions, int heads,
               int head_dim, const RopeFrequencies& freq, RopeLayout layout);

// One head vector of 2 * freq.inv_freq.size() floats at `position`.
void ApplyRopeToVector(float* v, int64_t position, const RopeFrequencies& freq,
                       RopeLayout layout);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ROPE_H_
