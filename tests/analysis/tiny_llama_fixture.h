// tiny_llama_fixture.h: a small random Llama-family checkpoint directory (config.json +
// model.safetensors) and token files, for the activation-scan tests.
#ifndef SINKSCOPE_TESTS_ANALYSIS_TINY_LLAMA_FIXTURE_H_
#define SINKSCOPE_TESTS_ANALYSIS_TINY_LLAMA_FIXTURE_H_

#include <sys/stat.h>

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "model/safetensors.h"

namespace sinkscope::testing {

struct TinyLlama {
  int hidden = 32, layers = 2, heads = 4, kv_heads = 2, head_dim = 8, ffn = 48, vocab = 50;
};

inline absl::Status WriteTinyLlama(const std::string& dir, const TinyLlama& m, uint32_t seed) {
  mkdir(dir.c_str(), 0755);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.2f);
  std::vector<model::TensorToWrite> ts;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape, float fill = 0.0f) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::string bytes(count * 4, '\0');
    for (int64_t i = 0; i < count; ++i) {
      const float v = fill != 0.0f ? fill : n(rng);
      std::memcpy(&bytes[i * 4], &v, 4);
    }
    ts.push_back({name, model::DType::kF32, shape, bytes});
  };
  add("model.embed_tokens.weight", {m.vocab, m.hidden});
  for (int l = 0; l < m.layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    add(p + "input_layernorm.weight", {m.hidden}, 1.0f);
    add(p + "self_attn.q_proj.weight", {m.heads * m.head_dim, m.hidden});
    add(p + "self_attn.k_proj.weight", {m.kv_heads * m.head_dim, m.hidden});
    add(p + "self_attn.v_proj.weight", {m.kv_heads * m.head_dim, m.hidden});
    add(p + "self_attn.o_proj.weight", {m.hidden, m.heads * m.head_dim});
    add(p + "post_attention_layernorm.weight", {m.hidden}, 1.0f);
    add(p + "mlp.gate_proj.weight", {m.ffn, m.hidden});
    add(p + "mlp.up_proj.weight", {m.ffn, m.hidden});
    add(p + "mlp.down_proj.weight", {m.hidden, m.ffn});
  }
  add("model.norm.weight", {m.hidden}, 1.0f);
  add("lm_head.weight", {m.vocab, m.hidden});
  if (absl::Status st = model::WriteSafetensors(dir + "/model.safetensors", ts); !st.ok()) return st;
  const std::string config = absl::StrCat(
      "{\"model_type\": \"llama\", \"hidden_size\": ", m.hidden, ", \"num_hidden_layers\": ",
      m.layers, ", \"num_attention_heads\": ", m.heads, ", \"num_key_value_heads\": ", m.kv_heads,
      ", \"head_dim\": ", m.head_dim, ", \"intermediate_size\": ", m.ffn,
      ", \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"vocab_size\": ", m.vocab,
      ", \"max_position_embeddings\": 512, \"tie_word_embeddings\": false, \"hidden_act\": \"silu\"}");
  return model::WriteFileAtomically(dir + "/config.json", config);
}

inline absl::Status WriteTokens(const std::string& path, int count, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string text;
  for (int i = 0; i < count; ++i) absl::StrAppend(&text, rng() % vocab, i % 7 == 6 ? ",\n" : " ");
  return model::WriteFileAtomically(path, text);
}

}  // namespace sinkscope::testing

#endif  // SINKSCOPE_TESTS_ANALYSIS_TINY_LLAMA_FIXTURE_H_
