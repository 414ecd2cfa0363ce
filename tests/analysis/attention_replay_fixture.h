// attention_replay_fixture.h: layer and input files for the attention_replay tests, in the
// format of analysis/attention_replay.h: a spec's metadata, its weights rounded to the file
// dtype (so that the test's oracle sees exactly the stored values) and editable file contents
// (for the error cases).
#ifndef SINKSCOPE_TESTS_ANALYSIS_ATTENTION_REPLAY_FIXTURE_H_
#define SINKSCOPE_TESTS_ANALYSIS_ATTENTION_REPLAY_FIXTURE_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "model/safetensors.h"
#include "tests/analysis/fixture_checkpoint.h"

namespace sinkscope::testing {

using attention::FloatMatrix;
using attention::FloatVector;

// x as stored in `dtype` and read back.
inline float RoundTo(float x, model::DType dtype) {
  if (dtype == model::DType::kBF16) return model::Bf16ToFloat(model::FloatToBf16(x));
  if (dtype == model::DType::kF16) return model::HalfToFloat(model::FloatToHalf(x));
  return x;
}

template <typename M>
void RoundAll(M* m, model::DType dtype) {
  for (int64_t i = 0; i < m->size(); ++i) m->data()[i] = RoundTo(m->data()[i], dtype);
}

inline void RoundWeights(attention::AttentionWeights* w, model::DType dtype) {
  for (FloatMatrix* m :
       {&w->wq, &w->wk, &w->wv, &w->wo, &w->k_bias, &w->v_bias, &w->sink_tokens, &w->gate_w}) {
    RoundAll(m, dtype);
  }
  for (FloatVector* v : {&w->bq, &w->bk, &w->bv, &w->bo, &w->sinks, &w->gate_b}) {
    RoundAll(v, dtype);
  }
}

// The __metadata__ that describes `spec`.
inline std::map<std::string, std::string> SpecMetadata(const attention::AttentionSpec& s) {
  const auto num = [](float x) { return absl::StrFormat("%.9g", x); };
  std::map<std::string, std::string> md = {
      {"format", "pt"},
      {"num_heads", std::to_string(s.num_heads)},
      {"num_kv_heads", std::to_string(s.num_kv_heads)},
      {"head_dim", std::to_string(s.head_dim)},
      {"variant", attention::VariantName(s.variant)},
      {"window", std::to_string(s.mask == attention::MaskKind::kSliding ? s.window : 0)},
      {"causal", s.mask == attention::MaskKind::kNone ? "false" : "true"},
      {"rope_theta", num(s.rope_theta)},
      {"rope_layout", attention::RopeLayoutName(s.rope_layout)},
  };
  if (s.softmax_scale > 0.0f) md["softmax_scale"] = num(s.softmax_scale);
  if (!s.rope_scaling.is_none()) {
    const attention::RopeScaling& r = s.rope_scaling;
    const auto d = [](double x) { return absl::StrFormat("%.17g", x); };
    md["rope_scaling"] = attention::RopeScalingTypeName(r.type);
    md["rope_scaling_factor"] = d(r.factor);
    md["rope_scaling_beta_fast"] = d(r.beta_fast);
    md["rope_scaling_beta_slow"] = d(r.beta_slow);
    md["rope_scaling_truncate"] = r.truncate ? "true" : "false";
    md["rope_scaling_low_freq_factor"] = d(r.low_freq_factor);
    md["rope_scaling_high_freq_factor"] = d(r.high_freq_factor);
    md["rope_scaling_original_max_position_embeddings"] =
        std::to_string(r.original_max_position_embeddings);
  }
  if (s.variant == attention::Variant::kClippedSoftmax) {
    md["clip_zeta"] = num(s.clip_zeta);
    md["clip_gamma"] = num(s.clip_gamma);
  }
  return md;
}

// The contents of a file before it is written; tests edit them to make broken files.
struct SafetensorsContents {
  std::vector<model::TensorToWrite> tensors;
  std::map<std::string, std::string> metadata;

  model::TensorToWrite* Find(const std::string& name) {
    for (model::TensorToWrite& t : tensors) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
  void Erase(const std::string& name) {
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
      if (it->name == name) {
        tensors.erase(it);
        return;
      }
    }
  }
  void Add(const std::string& name, model::DType dtype, std::vector<int64_t> shape,
           const float* data, int64_t n) {
    tensors.push_back(
        {name, dtype, std::move(shape), FloatBytes(std::vector<float>(data, data + n), dtype)});
  }
  void AddMatrix(const std::string& name, model::DType dtype, const FloatMatrix& m) {
    if (m.size() > 0) Add(name, dtype, {m.rows(), m.cols()}, m.data(), m.size());
  }
  void AddVector(const std::string& name, model::DType dtype, const FloatVector& v) {
    if (v.size() > 0) Add(name, dtype, {v.size()}, v.data(), v.size());
  }
  absl::Status Write(const std::string& path) const {
    return model::WriteSafetensors(path, tensors, metadata);
  }
};

// The layer file of (spec, weights) with every tensor in `dtype`.
inline SafetensorsContents LayerContents(const attention::AttentionSpec& spec,
                                         const attention::AttentionWeights& w, model::DType dtype) {
  SafetensorsContents c;
  c.metadata = SpecMetadata(spec);
  c.AddMatrix("q_proj.weight", dtype, w.wq);
  c.AddMatrix("k_proj.weight", dtype, w.wk);
  c.AddMatrix("v_proj.weight", dtype, w.wv);
  c.AddMatrix("o_proj.weight", dtype, w.wo);
  c.AddVector("q_proj.bias", dtype, w.bq);
  c.AddVector("k_proj.bias", dtype, w.bk);
  c.AddVector("v_proj.bias", dtype, w.bv);
  c.AddVector("o_proj.bias", dtype, w.bo);
  c.AddVector("sinks", dtype, w.sinks);
  c.AddMatrix("k_bias", dtype, w.k_bias);
  c.AddMatrix("v_bias", dtype, w.v_bias);
  c.AddMatrix("sink_tokens", dtype, w.sink_tokens);
  c.AddMatrix("gate.weight", dtype, w.gate_w);
  c.AddVector("gate.bias", dtype, w.gate_b);
  return c;
}

// Random hidden states [T x d_model] rounded to `dtype`, with a large first token (as in LLMs,
// where the first token's hidden state carries massive activations).
inline FloatMatrix RandomHidden(int64_t tokens, int d_model, model::DType dtype, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(tokens, d_model);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  x.row(0) *= 4.0f;
  RoundAll(&x, dtype);
  return x;
}

inline SafetensorsContents InputContents(const FloatMatrix& hidden, model::DType dtype) {
  SafetensorsContents c;
  c.AddMatrix("hidden", dtype, hidden);
  return c;
}

// A small GQA layer with RoPE, biases and the given variant, weights rounded to `dtype`.
inline attention::AttentionSpec SmallSpec(attention::Variant variant) {
  attention::AttentionSpec s;
  s.d_model = 32;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 8;
  s.rope_theta = 10000.0f;
  s.rope_layout = attention::RopeLayout::kRotateHalf;
  s.variant = variant;
  if (variant == attention::Variant::kSinkTokens) s.num_sink_tokens = 2;
  return s;
}

// Writes to `dir`: layer.safetensors (a sink_logit GQA layer, BF16), input.safetensors
// (T = 12, F32) and no_heads_layer.safetensors (the layer without metadata 'num_heads').
inline absl::Status WriteReplayFixture(const std::string& dir) {
  attention::AttentionSpec spec = SmallSpec(attention::Variant::kSinkLogit);
  spec.mask = attention::MaskKind::kSliding;
  spec.window = 4;
  attention::AttentionWeights w = attention::RandomAttentionWeights(spec, 3);
  SafetensorsContents layer = LayerContents(spec, w, model::DType::kBF16);
  if (absl::Status st = layer.Write(dir + "/layer.safetensors"); !st.ok()) return st;
  layer.metadata.erase("num_heads");
  if (absl::Status st = layer.Write(dir + "/no_heads_layer.safetensors"); !st.ok()) return st;
  const FloatMatrix x = RandomHidden(12, spec.d_model, model::DType::kF32, 5);
  return InputContents(x, model::DType::kF32).Write(dir + "/input.safetensors");
}

}  // namespace sinkscope::testing

#endif  // SINKSCOPE_TESTS_ANALYSIS_ATTENTION_REPLAY_FIXTURE_H_
