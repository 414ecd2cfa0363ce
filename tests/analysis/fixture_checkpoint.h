// fixture_checkpoint.h: a small safetensors checkpoint for the analysis tests: F32, BF16 and
// F16 tensors with layer names, an outlier channel and a massive value.
#ifndef SINKSCOPE_TESTS_ANALYSIS_FIXTURE_CHECKPOINT_H_
#define SINKSCOPE_TESTS_ANALYSIS_FIXTURE_CHECKPOINT_H_

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/safetensors.h"

namespace sinkscope::testing {

inline std::string FloatBytes(const std::vector<float>& v, model::DType dtype) {
  std::string out;
  for (float x : v) {
    if (dtype == model::DType::kF32) {
      out.append(reinterpret_cast<const char*>(&x), 4);
    } else {
      const uint16_t h = dtype == model::DType::kBF16 ? model::FloatToBf16(x) : model::FloatToHalf(x);
      out.append(reinterpret_cast<const char*>(&h), 2);
    }
  }
  return out;
}

inline absl::Status WriteFixtureCheckpoint(const std::string& path) {
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<model::TensorToWrite> ts;
  const auto add = [&](const std::string& name, model::DType dt, std::vector<int64_t> shape,
                       int outlier_channel) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::vector<float> v(count);
    for (float& x : v) x = n(rng);
    if (outlier_channel >= 0) {
      const int64_t cols = shape.back();
      for (int64_t r = 0; r < count / cols; ++r) v[r * cols + outlier_channel] *= 40.0f;
      v[outlier_channel] = 3.0f;
    }
    ts.push_back({name, dt, shape, FloatBytes(v, dt)});
  };
  add("model.embed_tokens.weight", model::DType::kBF16, {64, 32}, -1);
  for (int l = 0; l < 3; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "self_attn.q_proj.weight", model::DType::kF32, {32, 32}, l == 1 ? 5 : -1);
    add(p + "self_attn.k_proj.weight", model::DType::kF16, {16, 32}, -1);
    add(p + "mlp.down_proj.weight", model::DType::kBF16, {32, 48}, 17);
    add(p + "input_layernorm.weight", model::DType::kF32, {32}, -1);
  }
  add("lm_head.weight", model::DType::kF16, {64, 32}, -1);
  return model::WriteSafetensors(path, ts, {{"format", "pt"}});
}

}  // namespace sinkscope::testing

#endif  // SINKSCOPE_TESTS_ANALYSIS_FIXTURE_CHECKPOINT_H_
