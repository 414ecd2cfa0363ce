// fixture_models.h: random tensors of a config's checkpoint layout (llama family, gpt2, gpt_oss)
// into a MemoryCheckpoint, for the forward-pass tests and the quantized-evaluation tests. The
// draws happen in a fixed order, so a seed gives the same checkpoint in every test.
#ifndef SINKSCOPE_TESTS_MODEL_FIXTURE_MODELS_H_
#define SINKSCOPE_TESTS_MODEL_FIXTURE_MODELS_H_

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "model/model_config.h"
#include "tests/model/memory_checkpoint.h"

namespace sinkscope::model::test_support {

inline void AddLlamaTensors(const ModelConfig& c, MemoryCheckpoint* ck,
                            double lm_head_scale = 1.0) {
  const int64_t d = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t f = c.intermediate_size;
  ck->Add("model.embed_tokens.weight", {c.vocab_size, d}, 1.0);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    ck->Add(p + "input_layernorm.weight", {d}, 0.2, 1.0);
    ck->Add(p + "post_attention_layernorm.weight", {d}, 0.2, 1.0);
    ck->Add(p + "self_attn.q_proj.weight", {q, d}, 1.5 / std::sqrt(d));
    ck->Add(p + "self_attn.k_proj.weight", {kv, d}, 1.5 / std::sqrt(d));
    ck->Add(p + "self_attn.v_proj.weight", {kv, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "self_attn.o_proj.weight", {d, q}, 1.0 / std::sqrt(q));
    if (c.qkv_bias) {
      ck->Add(p + "self_attn.q_proj.bias", {q}, 0.3);
      ck->Add(p + "self_attn.k_proj.bias", {kv}, 0.3);
      ck->Add(p + "self_attn.v_proj.bias", {kv}, 0.3);
    }
    if (c.o_bias) ck->Add(p + "self_attn.o_proj.bias", {d}, 0.3);
    ck->Add(p + "mlp.gate_proj.weight", {f, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "mlp.up_proj.weight", {f, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "mlp.down_proj.weight", {d, f}, 1.0 / std::sqrt(f));
  }
  ck->Add("model.norm.weight", {d}, 0.2, 1.0);
  if (!c.tie_word_embeddings) ck->Add("lm_head.weight", {c.vocab_size, d}, lm_head_scale / std::sqrt(d));
}

inline void AddGpt2Tensors(const ModelConfig& c, const std::string& root, MemoryCheckpoint* ck) {
  const int64_t d = c.hidden_size, f = c.intermediate_size;
  ck->Add(root + "wte.weight", {c.vocab_size, d}, 1.0);
  ck->Add(root + "wpe.weight", {c.max_position_embeddings, d}, 0.5);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat(root, "h.", l, ".");
    ck->Add(p + "ln_1.weight", {d}, 0.2, 1.0);
    ck->Add(p + "ln_1.bias", {d}, 0.2);
    ck->Add(p + "attn.c_attn.weight", {d, 3 * d}, 1.5 / std::sqrt(d));
    ck->Add(p + "attn.c_attn.bias", {3 * d}, 0.3);
    ck->Add(p + "attn.c_proj.weight", {d, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "attn.c_proj.bias", {d}, 0.3);
    ck->Add(p + "ln_2.weight", {d}, 0.2, 1.0);
    ck->Add(p + "ln_2.bias", {d}, 0.2);
    ck->Add(p + "mlp.c_fc.weight", {d, f}, 1.0 / std::sqrt(d));
    ck->Add(p + "mlp.c_fc.bias", {f}, 0.3);
    ck->Add(p + "mlp.c_proj.weight", {f, d}, 1.0 / std::sqrt(f));
    ck->Add(p + "mlp.c_proj.bias", {d}, 0.3);
  }
  ck->Add(root + "ln_f.weight", {d}, 0.2, 1.0);
  ck->Add(root + "ln_f.bias", {d}, 0.2);
}

inline void AddGptOssTensors(const ModelConfig& c, MemoryCheckpoint* ck,
                             double lm_head_scale = 1.0) {
  const int64_t d = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t f = c.intermediate_size, E = c.num_experts;
  ck->Add("model.embed_tokens.weight", {c.vocab_size, d}, 1.0);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    ck->Add(p + "input_layernorm.weight", {d}, 0.2, 1.0);
    ck->Add(p + "post_attention_layernorm.weight", {d}, 0.2, 1.0);
    ck->Add(p + "self_attn.q_proj.weight", {q, d}, 1.5 / std::sqrt(d));
    ck->Add(p + "self_attn.k_proj.weight", {kv, d}, 1.5 / std::sqrt(d));
    ck->Add(p + "self_attn.v_proj.weight", {kv, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "self_attn.o_proj.weight", {d, q}, 1.0 / std::sqrt(q));
    ck->Add(p + "self_attn.q_proj.bias", {q}, 0.3);
    ck->Add(p + "self_attn.k_proj.bias", {kv}, 0.3);
    ck->Add(p + "self_attn.v_proj.bias", {kv}, 0.3);
    ck->Add(p + "self_attn.o_proj.bias", {d}, 0.3);
    ck->Add(p + "self_attn.sinks", {c.num_heads}, 1.5, 0.5);
    ck->Add(p + "mlp.router.weight", {E, d}, 1.0 / std::sqrt(d));
    ck->Add(p + "mlp.router.bias", {E}, 0.3);
    // Scaled so that |gate|, |up| often exceed the test's swiglu_limit: the clamps matter.
    ck->Add(p + "mlp.experts.gate_up_proj", {E, d, 2 * f}, 2.5 / std::sqrt(d));
    ck->Add(p + "mlp.experts.gate_up_proj_bias", {E, 2 * f}, 0.5);
    ck->Add(p + "mlp.experts.down_proj", {E, f, d}, 1.0 / std::sqrt(f));
    ck->Add(p + "mlp.experts.down_proj_bias", {E, d}, 0.3);
  }
  ck->Add("model.norm.weight", {d}, 0.2, 1.0);
  ck->Add("lm_head.weight", {c.vocab_size, d}, lm_head_scale / std::sqrt(d));
}

}  // namespace sinkscope::model::test_support

#endif  // SINKSCOPE_TESTS_MODEL_FIXTURE_MODELS_H_
