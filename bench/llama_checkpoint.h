// File: bench/llama_checkpoint.h
//
// llama_checkpoint.h: synthetic Llama-family BF16 checkpoints (model.safetensors + config.json)
// for the benchmarks: any shape (TinyLlama-like by default, Qwen2.5-0.5B via Qwen05bShape()),
// values from a table of N(0, 0.02) draws with LLM.int8-style outlier input channels, streamed
// to disk without holding the model in memory; temp-dir helpers.
//
// Example:
//   LlamaShape s = Qwen05bShape();
//   std::string dir = MakeTempDir();
//   if (!WriteLlama(dir, s)) ...;
//   ... analysis::OpenModel(dir) ...
//   RemoveDir(dir);
#ifndef SINKSCOPE_BENCH_LLAMA_CHECKPOINT_H_
#define SINKSCOPE_BENCH_LLAMA_CHECKPOINT_H_

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model/dtype.h"

namespace sinkscope::bench {

struct LlamaShape {
  int64_t d = 2048, ffn = 5632, heads = 32, kv_heads = 4, head_dim = 64, vocab = 32000;
  int layers = 1;
  int64_t LayerParams() const {
    return 2 * d * heads * head_dim + 2 * d * kv_heads * head_dim + 3 * d * ffn + 2 * d;
  }
  int64_t Params() const { return layers * LayerParams() + 2 * vocab * d + d; }
};

// Streams a BF16 llama checkpoint (model.safetensors + config.json) into `dir`: values from a
// table of N(0, 0.02) draws picked by a xorshift generator; every 2-D weight gets outlier input
// channels (columns 17 and d/3) scaled by 40, like the LLM.int8 outlier features.
inline bool WriteLlama(const std::string& dir, const LlamaShape& s) {
  struct T {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<T> ts;
  ts.push_back({"model.embed_tokens.weight", {s.vocab, s.d}});
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    ts.push_back({p + "input_layernorm.weight", {s.d}});
    ts.push_back({p + "self_attn.q_proj.weight", {s.heads * s.head_dim, s.d}});
    ts.push_back({p + "self_attn.k_proj.weight", {s.kv_heads * s.head_dim, s.d}});
    ts.push_back({p + "self_attn.v_proj.weight", {s.kv_heads * s.head_dim, s.d}});
    ts.push_back({p + "self_attn.o_proj.weight", {s.d, s.heads * s.head_dim}});
    ts.push_back({p + "post_attention_layernorm.weight", {s.d}});
    ts.push_back({p + "mlp.gate_proj.weight", {s.ffn, s.d}});
    ts.push_back({p + "mlp.up_proj.weight", {s.ffn, s.d}});
    ts.push_back({p + "mlp.down_proj.weight", {s.d, s.ffn}});
  }
  ts.push_back({"model.norm.weight", {s.d}});
  ts.push_back({"lm_head.weight", {s.vocab, s.d}});
  std::string header = "{";
  uint64_t offset = 0;
  for (const T& t : ts) {
    int64_t n = 1;
    for (int64_t x : t.shape) n *= x;
    std::string shape;
    for (int64_t x : t.shape) absl::StrAppend(&shape, shape.empty() ? "" : ",", x);
    absl::StrAppend(&header, header.size() > 1 ? "," : "", "\"", t.name,
                    "\":{\"dtype\":\"BF16\",\"shape\":[", shape, "],\"data_offsets\":[", offset,
                    ",", offset + 2 * n, "]}");
    offset += 2 * n;
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  FILE* f = std::fopen((dir + "/model.safetensors").c_str(), "wb");
  if (f == nullptr) return false;
  const uint64_t hlen = header.size();
  std::fwrite(&hlen, 8, 1, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<uint16_t> table(1 << 16), big(1 << 16);
  for (size_t i = 0; i < table.size(); ++i) {
    const float v = normal(rng);
    table[i] = model::FloatToBf16(v);
    big[i] = model::FloatToBf16(40.0f * v);
  }
  uint64_t x = 0x9E3779B97F4A7C15ull;
  std::vector<uint16_t> buf;
  for (const T& t : ts) {
    const int64_t cols = t.shape.back();
    const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1;
    buf.resize(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const size_t k = static_cast<size_t>(x >> 48);
        const bool outlier = t.shape.size() == 2 && (c == 17 || c == cols / 3);
        buf[c] = t.shape.size() == 1 ? model::FloatToBf16(1.0f) : (outlier ? big[k] : table[k]);
      }
      std::fwrite(buf.data(), 2, buf.size(), f);
    }
  }
  if (std::fclose(f) != 0) return false;
  const std::string config = absl::StrCat(
      "{\"model_type\": \"llama\", \"hidden_size\": ", s.d, ", \"num_hidden_layers\": ", s.layers,
      ", \"num_attention_heads\": ", s.heads, ", \"num_key_value_heads\": ", s.kv_heads,
      ", \"head_dim\": ", s.head_dim, ", \"intermediate_size\": ", s.ffn,
      ", \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"vocab_size\": ", s.vocab,
      ", \"max_position_embeddings\": 4096, \"tie_word_embeddings\": false, \"hidden_act\": "
      "\"silu\"}");
  FILE* c = std::fopen((dir + "/config.json").c_str(), "wb");
  if (c == nullptr) return false;
  std::fwrite(config.data(), 1, config.size(), c);
  return std::fclose(c) == 0;
}

// Layers of `s` that fit `bytes` (at least 1).
inline LlamaShape Fit(LlamaShape s, uint64_t bytes) {
  const int64_t params = static_cast<int64_t>(bytes / 2) - 2 * s.vocab * s.d;
  s.layers = static_cast<int>(std::max<int64_t>(1, params / s.LayerParams()));
  return s;
}

inline std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base != nullptr ? base : "/tmp") + "/sinkscope_bench.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return "";
  return templ;
}

inline void RemoveDir(const std::string& dir) {
  std::remove((dir + "/model.safetensors").c_str());
  std::remove((dir + "/config.json").c_str());
  rmdir(dir.c_str());
}

// Qwen2.5-0.5B's shapes (24 layers, d 896, ffn 4864, 14/2 heads of 64, vocab 151,936), without
// its q/k/v biases and with an untied LM head: ~0.63 B parameters, 1.26 GB in BF16.
inline LlamaShape Qwen05bShape() {
  LlamaShape s;
  s.d = 896;
  s.ffn = 4864;
  s.heads = 14;
  s.kv_heads = 2;
  s.head_dim = 64;
  s.vocab = 151936;
  s.layers = 24;
  return s;
}

}  // namespace sinkscope::bench

#endif  // SINKSCOPE_BENCH_LLAMA_CHECKPOINT_H_
