// DecodeStreaming (StreamingLLM over a whole model) against two oracles: the ordinary forward
// pass when the cache holds the whole stream, and a naive double-precision decoder written here
// from the definition (per token: keep the first n_sink tokens and the last `window`, positions
// 0..n-1 within the kept list, RoPE rotate_half, GQA, RMSNorm, SwiGLU) when tokens are evicted.
#include "model/streaming_decoder.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/model_config.h"
#include "model/transformer.h"
#include "tests/model/memory_checkpoint.h"

namespace sinkscope::model {
namespace {

using test_support::Mat;
using test_support::MemoryCheckpoint;

const char kLlama[] = R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 29,
  "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu"})";
const char kMistral[] = R"({"model_type": "mistral", "hidden_size": 16, "num_hidden_layers": 3,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 19,
  "rms_norm_eps": 1e-5, "sliding_window": 5})";
const char kGpt2[] = R"({"model_type": "gpt2", "n_embd": 16, "n_layer": 1, "n_head": 4,
  "n_positions": 64, "vocab_size": 27, "layer_norm_epsilon": 1e-5})";

ModelConfig MustParse(const std::string& json) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ModelConfig();
}

void AddLlama(const ModelConfig& c, MemoryCheckpoint* ck) {
  const int64_t d = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t f = c.intermediate_size;
  ck->Add("model.embed_tokens.weight", {c.vocab_size, d}, 1.0);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    ck->Add(p + "input_layernorm.weight", {d}, 0.2, 1.0);
    ck->Add(p + "post_attention_layernorm.weight", {d}, 0.2, 1.0);
    // Large q/k weights: peaked attention, so that evicting tokens changes the outputs.
    ck->Add(p + "self_attn.q_proj.weight", {q, d}, 0.9);
    ck->Add(p + "self_attn.k_proj.weight", {kv, d}, 0.9);
    ck->Add(p + "self_attn.v_proj.weight", {kv, d}, 0.5);
    ck->Add(p + "self_attn.o_proj.weight", {d, q}, 0.5);
    ck->Add(p + "mlp.gate_proj.weight", {f, d}, 0.4);
    ck->Add(p + "mlp.up_proj.weight", {f, d}, 0.4);
    ck->Add(p + "mlp.down_proj.weight", {d, f}, 0.4);
  }
  ck->Add("model.norm.weight", {d}, 0.2, 1.0);
  ck->Add("lm_head.weight", {c.vocab_size, d}, 1.0);
}

std::vector<int32_t> RandomIds(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, vocab - 1);
  std::vector<int32_t> ids(n);
  for (int32_t& x : ids) x = u(rng);
  return ids;
}

// ------------------------------------------------------------------ naive decoder (double)

std::vector<double> Linear(const std::vector<double>& x, const Mat& w) {  // x W^T
  std::vector<double> y(w.size(), 0.0);
  for (size_t o = 0; o < w.size(); ++o) {
    for (size_t i = 0; i < x.size(); ++i) y[o] += x[i] * w[o][i];
  }
  return y;
}

std::vector<double> RmsNorm(const std::vector<double>& x, const std::vector<double>& w, double eps) {
  double ms = 0.0;
  for (double v : x) ms += v * v;
  ms /= static_cast<double>(x.size());
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ms + eps) * w[i];
  return y;
}

// rotate_half RoPE of every head of x at `position`.
std::vector<double> Rope(std::vector<double> x, int head_dim, double theta, int64_t position) {
  const int half = head_dim / 2;
  for (size_t h = 0; h * head_dim < x.size(); ++h) {
    double* v = x.data() + h * head_dim;
    std::vector<double> orig(v, v + head_dim);
    for (int i = 0; i < head_dim; ++i) {
      const double angle =
          static_cast<double>(position) * std::pow(theta, -2.0 * (i % half) / head_dim);
      const double rot = i < half ? -orig[i + half] : orig[i - half];
      v[i] = orig[i] * std::cos(angle) + rot * std::sin(angle);
    }
  }
  return x;
}

// Per-token NLL of the stream with a cache of the first n_sink tokens plus the last `window`
// (window <= 0: everything), positions within the kept list.
std::vector<double> NaiveStreamingNll(const ModelConfig& c, const MemoryCheckpoint& ck,
                                      const std::vector<int32_t>& ids, int n_sink, int window) {
  const int T = static_cast<int>(ids.size());
  const int D = c.head_dim, H = c.num_heads, KVH = c.num_kv_heads;
  const Mat emb = ck.Matrix("model.embed_tokens.weight");
  Mat h;
  for (int32_t id : ids) h.push_back(emb[id]);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    const Mat wq = ck.Matrix(p + "self_attn.q_proj.weight"), wk = ck.Matrix(p + "self_attn.k_proj.weight"),
              wv = ck.Matrix(p + "self_attn.v_proj.weight"), wo = ck.Matrix(p + "self_attn.o_proj.weight");
    Mat q, k, v;
    for (int t = 0; t < T; ++t) {
      const std::vector<double> n = RmsNorm(h[t], ck.Values(p + "input_layernorm.weight"), c.norm_eps);
      q.push_back(Linear(n, wq));
      k.push_back(Linear(n, wk));
      v.push_back(Linear(n, wv));
    }
    Mat next = h;
    for (int t = 0; t < T; ++t) {
      std::vector<int> kept;
      for (int j = 0; j <= t; ++j) {
        if (window <= 0 || j < n_sink || j > t - window) kept.push_back(j);
      }
      const int n = static_cast<int>(kept.size());
      const std::vector<double> qr = Rope(q[t], D, c.rope_theta, n - 1);
      Mat kr;
      for (int i = 0; i < n; ++i) kr.push_back(Rope(k[kept[i]], D, c.rope_theta, i));
      std::vector<double> heads(H * D, 0.0);
      for (int hd = 0; hd < H; ++hd) {
        const int g = hd / (H / KVH);
        std::vector<double> z(n);
        double m = -INFINITY;
        for (int i = 0; i < n; ++i) {
          double s = 0.0;
          for (int e = 0; e < D; ++e) s += qr[hd * D + e] * kr[i][g * D + e];
          z[i] = s / std::sqrt(static_cast<double>(D));
          m = std::max(m, z[i]);
        }
        double sum = 0.0;
        for (double zi : z) sum += std::exp(zi - m);
        for (int i = 0; i < n; ++i) {
          for (int e = 0; e < D; ++e) {
            heads[hd * D + e] += std::exp(z[i] - m) / sum * v[kept[i]][g * D + e];
          }
        }
      }
      const std::vector<double> a = Linear(heads, wo);
      for (size_t i = 0; i < a.size(); ++i) next[t][i] += a[i];
    }
    for (int t = 0; t < T; ++t) {
      const std::vector<double> n2 =
          RmsNorm(next[t], ck.Values(p + "post_attention_layernorm.weight"), c.norm_eps);
      std::vector<double> g = Linear(n2, ck.Matrix(p + "mlp.gate_proj.weight"));
      const std::vector<double> u = Linear(n2, ck.Matrix(p + "mlp.up_proj.weight"));
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const std::vector<double> m = Linear(g, ck.Matrix(p + "mlp.down_proj.weight"));
      for (size_t i = 0; i < m.size(); ++i) next[t][i] += m[i];
    }
    h = std::move(next);
  }
  std::vector<double> nll;
  const Mat lm = ck.Matrix("lm_head.weight");
  for (int t = 0; t + 1 < T; ++t) {
    const std::vector<double> z = Linear(RmsNorm(h[t], ck.Values("model.norm.weight"), c.norm_eps), lm);
    double m = -INFINITY;
    for (double zi : z) m = std::max(m, zi);
    double s = 0.0;
    for (double zi : z) s += std::exp(zi - m);
    nll.push_back(m + std::log(s) - z[ids[t + 1]]);
  }
  return nll;
}

// ------------------------------------------------------------------ tests

TEST(StreamingDecoderTest, CacheHoldingTheStreamEqualsForward) {
  for (const char* json : {kLlama, kMistral}) {
    const ModelConfig c = MustParse(json);
    MemoryCheckpoint ck(DType::kF32, 11);
    AddLlama(c, &ck);
    absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
    ASSERT_TRUE(t.ok()) << t.status();
    const std::vector<int32_t> ids = RandomIds(40, c.vocab_size, 5);
    absl::StatusOr<ForwardResult> fwd = t->Forward(ids);
    ASSERT_TRUE(fwd.ok());
    for (const StreamingConfig& cfg : {StreamingConfig{"full", 0, 0},
                                       StreamingConfig{"4+60", 4, 60},
                                       StreamingConfig{"0+40", 0, 40}}) {
      absl::StatusOr<StreamingResult> r = DecodeStreaming(*t, ids, cfg);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->num_predicted, 39);
      ASSERT_EQ(r->nll.size(), 39u);
      EXPECT_NEAR(r->mean_nll, fwd->mean_nll, 1e-4 * fwd->mean_nll) << c.model_type << " " << cfg.name;
      for (int i = 0; i < 39; ++i) {
        EXPECT_NEAR(r->nll[i],
                    NextTokenNll(fwd->logits.data() + i * c.vocab_size, c.vocab_size, ids[i + 1]),
                    1e-3);
      }
    }
  }
}

TEST(StreamingDecoderTest, EvictingCachesMatchTheNaiveDecoder) {
  const ModelConfig c = MustParse(kLlama);
  MemoryCheckpoint ck(DType::kF32, 12);
  AddLlama(c, &ck);
  absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  const std::vector<int32_t> ids = RandomIds(30, c.vocab_size, 6);
  const std::vector<double> full = NaiveStreamingNll(c, ck, ids, 0, 0);
  for (const StreamingConfig& cfg : StreamingLlmConfigs(8, {1, 2, 4})) {
    absl::StatusOr<StreamingResult> r = DecodeStreaming(*t, ids, cfg);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::vector<double> want = NaiveStreamingNll(c, ck, ids, cfg.n_sink, cfg.window);
    ASSERT_EQ(r->nll.size(), want.size());
    double mean = 0.0, full_mean = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(r->nll[i], want[i], 1e-4 * std::max(1.0, std::abs(want[i]))) << cfg.name << " t=" << i;
      mean += want[i] / want.size();
      full_mean += full[i] / full.size();
    }
    EXPECT_NEAR(r->mean_nll, mean, 1e-4 * mean) << cfg.name;
    // The oracle itself tells the configurations apart: eviction changes the outputs.
    if (cfg.window > 0) {
      EXPECT_GT(std::abs(mean - full_mean), 1e-3) << cfg.name;
    }
  }
}

TEST(StreamingDecoderTest, ConfigTable) {
  const std::vector<StreamingConfig> cfgs = StreamingLlmConfigs(16, {1, 2, 4, 16});
  ASSERT_EQ(cfgs.size(), 5u);  // 16 sinks do not fit a 16-token cache
  EXPECT_EQ(cfgs[0].name, "window");
  EXPECT_EQ(cfgs[0].n_sink + cfgs[0].window, 16);
  EXPECT_EQ(cfgs[3].name, "4+window");
  EXPECT_EQ(cfgs[3].n_sink, 4);
  EXPECT_EQ(cfgs[3].window, 12);
  EXPECT_EQ(cfgs[4].name, "full");
  EXPECT_LE(cfgs[4].window, 0);
}

TEST(StreamingDecoderTest, Errors) {
  const ModelConfig g = MustParse(kGpt2);
  MemoryCheckpoint ck(DType::kF32, 13);
  const int64_t d = 16, f = g.intermediate_size;
  ck.Add("wte.weight", {g.vocab_size, d}, 1.0);
  ck.Add("wpe.weight", {64, d}, 1.0);
  for (const char* n : {"h.0.ln_1.weight", "h.0.ln_2.weight", "ln_f.weight"}) ck.Add(n, {d}, 0.1, 1.0);
  for (const char* n : {"h.0.ln_1.bias", "h.0.ln_2.bias", "ln_f.bias", "h.0.attn.c_proj.bias", "h.0.mlp.c_proj.bias"}) ck.Add(n, {d}, 0.1);
  ck.Add("h.0.attn.c_attn.weight", {d, 3 * d}, 0.3);
  ck.Add("h.0.attn.c_attn.bias", {3 * d}, 0.1);
  ck.Add("h.0.attn.c_proj.weight", {d, d}, 0.3);
  ck.Add("h.0.mlp.c_fc.weight", {d, f}, 0.3);
  ck.Add("h.0.mlp.c_fc.bias", {f}, 0.1);
  ck.Add("h.0.mlp.c_proj.weight", {f, d}, 0.3);
  absl::StatusOr<Transformer> gpt2 = Transformer::Create(g, ck.Source());
  ASSERT_TRUE(gpt2.ok()) << gpt2.status();
  absl::StatusOr<StreamingResult> r = DecodeStreaming(*gpt2, {1, 2, 3}, {"w", 0, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpt2"), std::string::npos);

  const ModelConfig c = MustParse(kLlama);
  MemoryCheckpoint lk(DType::kF32, 14);
  AddLlama(c, &lk);
  absl::StatusOr<Transformer> t = Transformer::Create(c, lk.Source());
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(DecodeStreaming(*t, {1}, {"w", 0, 2}).ok());
  EXPECT_FALSE(DecodeStreaming(*t, {1, 2, 3}, {"w", -1, 2}).ok());
  r = DecodeStreaming(*t, {1, 2, 99}, {"w", 0, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("99"), std::string::npos);
  r = DecodeStreaming(*t, {1, 2, 3}, {"w", 0, 2}, [] { return true; });
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
}

}  // namespace
}  // namespace sinkscope::model
