#include "attention/rope.h"

#include <cmath>

namespace sinkscope::attention {
namespace {

// cos and sin of pos * theta^(-2i/D) for i < D/2; angles in double (positions reach 1e5+).
void Angles(int64_t position, int head_dim, float theta, std::vector<float>* c,
            std::vector<float>* s) {
  const int half = head_dim / 2;
  c->resize(half);
  s->resize(half);
  for (int i = 0; i < half; ++i) {
    const double inv_freq = std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
    const double angle = static_cast<double>(position) * inv_freq;
    (*c)[i] = static_cast<float>(std::cos(angle));
    (*s)[i] = static_cast<float>(std::sin(angle));
  }
}

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

void ApplyRopeToVector(float* v, int64_t position, int head_dim, float theta, RopeLayout layout) {
  std::vector<float> c, s;
  Angles(position, head_dim, theta, &c, &s);
  Rotate(v, c, s, head_dim, layout);
}

void ApplyRope(quant::FloatMatrix* x, const std::vector<int64_t>& positions, int heads,
               int head_dim, float theta, RopeLayout layout) {
  std::vector<float> c, s;
  for (int64_t r = 0; r < x->rows(); ++r) {
    Angles(positions[r], head_dim, theta, &c, &s);
    for (int h = 0; h < heads; ++h) {
      Rotate(x->data() + r * x->cols() + static_cast<int64_t>(h) * head_dim, c, s, head_dim,
             layout);
    }
  }
}

}  // namespace sinkscope::attention
