// naive_rope.h: RoPE rotate_half for the naive forward-pass oracles, in double, with the RoPE
// scaling types written here again from their formulas (transformers'
// _compute_linear_scaling_rope_parameters, _compute_yarn_parameters, _compute_llama3_parameters;
// see attention/rope_scaling.h for the sources), independent of the library's code. The scaling
// parameters are given by the test, as its config.json says them, not taken from a parsed
// ModelConfig.
#ifndef SINKSCOPE_TESTS_MODEL_NAIVE_ROPE_H_
#define SINKSCOPE_TESTS_MODEL_NAIVE_ROPE_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tests/model/memory_checkpoint.h"

namespace sinkscope::model::test_support {

struct NaiveRopeScaling {
  std::string type = "default";  // "default", "linear", "yarn", "llama3"
  double factor = 1.0;
  double beta_fast = 32.0, beta_slow = 1.0;  // yarn
  bool truncate = true;                      // yarn
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double original_max_position_embeddings = 0.0;         // yarn, llama3
  double attention_factor = 0.0;  // yarn: > 0 overrides 0.1 ln(factor) + 1
};

// Per pair i < head_dim / 2: the rotation speed (radians per position), and the factor that
// multiplies cos and sin (YaRN: 0.1 ln(factor) + 1).
struct NaiveRopeTable {
  std::vector<double> speed;
  double amplitude = 1.0;
};

inline NaiveRopeTable NaiveRopeFrequencies(int head_dim, double theta,
                                           const NaiveRopeScaling& r) {
  const double pi = 3.14159265358979323846;
  const double L = r.original_max_position_embeddings;
  NaiveRopeTable table;
  for (int i = 0; i < head_dim / 2; ++i) {
    const double plain = std::pow(theta, -2.0 * i / head_dim);
    double speed = plain;
    if (r.type == "linear") {
      speed = plain / r.factor;
    } else if (r.type == "yarn") {
      // The pair whose wavelength turns `rot` times over L positions.
      const auto pair_at = [&](double rot) {
        return head_dim * std::log(L / (2.0 * pi * rot)) / (2.0 * std::log(theta));
      };
      double from = pair_at(r.beta_fast), to = pair_at(r.beta_slow);
      if (r.truncate) {
        from = std::floor(from);
        to = std::ceil(to);
      }
      from = std::max(from, 0.0);
      to = std::min(to, head_dim - 1.0);
      if (to == from) to += 0.001;
      const double w = std::min(1.0, std::max(0.0, (i - from) / (to - from)));  // 1: scaled
      speed = w * (plain / r.factor) + (1.0 - w) * plain;
    } else if (r.type == "llama3") {
      const double wavelength = 2.0 * pi / plain;
      if (wavelength > L / r.low_freq_factor) {
        speed = plain / r.factor;
      } else if (wavelength >= L / r.high_freq_factor) {
        const double s = (L / wavelength - r.low_freq_factor) /
                         (r.high_freq_factor - r.low_freq_factor);
        speed = s * plain + (1.0 - s) * plain / r.factor;
      }
    }
    table.speed.push_back(speed);
  }
  if (r.type == "yarn" && r.attention_factor > 0.0) {
    table.amplitude = r.attention_factor;
  } else if (r.type == "yarn" && r.factor > 1.0) {
    table.amplitude = 1.0 + 0.1 * std::log(r.factor);
  }
  return table;
}

// rotate_half by definition on every head of every row (row t at position t):
// x * A cos + rotate_half(x) * A sin, rotate_half(x) = [-x2, x1].
inline void NaiveRope(Mat* x, int heads, int head_dim, double theta,
                      const NaiveRopeScaling& scaling = NaiveRopeScaling()) {
  const NaiveRopeTable table = NaiveRopeFrequencies(head_dim, theta, scaling);
  const int half = head_dim / 2;
  for (size_t t = 0; t < x->size(); ++t) {
    for (int h = 0; h < heads; ++h) {
      double* v = (*x)[t].data() + h * head_dim;
      std::vector<double> rot(head_dim);
      for (int i = 0; i < head_dim; ++i) rot[i] = i < half ? -v[i + half] : v[i - half];
      for (int i = 0; i < head_dim; ++i) {
        const double angle = static_cast<double>(t) * table.speed[i % half];
        v[i] = table.amplitude * (v[i] * std::cos(angle) + rot[i] * std::sin(angle));
      }
    }
  }
}

}  // namespace sinkscope::model::test_support

#endif  // SINKSCOPE_TESTS_MODEL_NAIVE_ROPE_H_
