#include "attention/rope.h"

#include <cmath>

namespace sinkscope::attention {
namespace {

void Rotate(float* v, const std::vector<float>& c, const std::vector<float>& s, int head_dim,
            RopeLayout layout) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const int a = layout == RopeLayout::kInterleaved ? 2 * i : i;
    const int b = layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + half;
    const float xa = v[a], xb = v[b];
    v[a] = xa * c[i] - xb * s[i];
    v[b] = xa * s[i] + xb * c[i];
  }
}

}  // namespace

RopeFrequencies RopeInverseFrequencies(const AttentionSpec& spec) {
  if (!(spec.rope_theta > 0.0f)) return RopeFrequencies{};
  return ComputeRopeFrequencies(spec.head_dim, static_cast<double>(spec.rope_theta),
                                spec.rope_scaling);
}

void RopeCosSin(int64_t position, const RopeFrequencies& freq, float* c, float* s) {
  const double a = freq.attention_factor;
  for (size_t i = 0; i < freq.inv_freq.size(); ++i) {
    const double angle = static_cast<double>(position) * freq.inv_freq[i];
    c[i] = static_cast<float>(a * std::cos(angle));
    s[i] = static_cast<float>(a * std::sin(angle));
  }
}

void ApplyRopeToVector(float* v, int64_t position, const RopeFrequencies& freq,
                       RopeLayout layout) {
  const int half = static_cast<int>(freq.inv_freq.size());
  std::vector<float> c(half), s(half);
  RopeCosSin(position, freq, c.data(), s.data());
  Rotate(v, c, s, 2 * half, layout);
}

void ApplyRope(quant::FloatMatrix* x, const std::vector<int64_t>& positions, int heads,
               int head_dim, const RopeFrequencies& freq, RopeLayout layout) {
  std::vector<float> c(head_dim / 2), s(head_dim / 2);
  for (int64_t r = 0; r < x->rows(); ++r) {
    RopeCosSin(positions[r], freq, c.data(), s.data());
    for (int h = 0; h < heads; ++h) {
      Rotate(x->data() + r * x->cols() + static_cast<int64_t>(h) * head_dim, c, s, head_dim,
             layout);
    }
  }
}

}  // namespace sinkscope::attention
