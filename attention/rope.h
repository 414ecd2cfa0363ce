// File: attention/rope.h
//
// rope.h: rotary position embedding (Su et al.) in both layouts checkpoints use. For head size D
// and frequency index i < D/2, the angle is pos * theta^(-2i/D); the rotated pair is
// (x_a cos - x_b sin, x_a sin + x_b cos) with (a, b) = (2i, 2i+1) for kInterleaved and
// (i, i + D/2) for kRotateHalf.
//
// Example:
//   ApplyRope(&q, positions, spec.num_heads, spec.head_dim, spec.rope_theta, spec.rope_layout);
#ifndef SINKSCOPE_ATTENTION_ROPE_H_
#define SINKSCOPE_ATTENTION_ROPE_H_

#include <cstdint>
#include <vector>

#include "attention/attention_spec.h"
#include "quant/tensor.h"

namespace sinkscope::attention {

// Rotates every head of every row of x [rows x heads*head_dim]; row r has position positions[r].
void ApplyRope(quant::FloatMatrix* x, const std::vector<int64_t>& positions, int heads,
               int head_dim, float theta, RopeLayout layout);

// One head vector of head_dim floats at `position`.
void ApplyRopeToVector(float* v, int64_t position, int head_dim, float theta, RopeLayout layout);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_ROPE_H_
