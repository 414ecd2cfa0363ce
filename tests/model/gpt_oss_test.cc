// gpt_oss: config.json parsing and its errors; the forward pass of tiny random checkpoints (F32,
// BF16) against a naive double-precision forward written here from the formulas (RMSNorm, RoPE
// rotate_half, GQA attention with per-head sink logits S not scaled, sliding / full layers,
// q/k/v/o biases, top-k router with softmax over the selected logits, interleaved clamped
// SwiGLU experts); the attention probabilities plus the sink mass sum to 1 and match the
// definition; MXFP4 experts against weights decoded here; missing tensors are named.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/model_config.h"
#include "model/transformer.h"
#include "tests/model/fixture_models.h"
#include "tests/model/memory_checkpoint.h"
#include "tests/model/naive_rope.h"

namespace sinkscope::model {
namespace {

using test_support::Mat;
using test_support::AddGptOssTensors;
using test_support::MemoryCheckpoint;
using test_support::NaiveRope;
using test_support::NaiveRopeScaling;


// ---------------------------------------------------------------- naive forward (double)

Mat LinearT(const Mat& x, const Mat& w, const std::vector<double>& b) {  // x W^T + b
  Mat y(x.size(), std::vector<double>(w.size(), 0.0));
  for (size_t t = 0; t < x.size(); ++t) {
    for (size_t o = 0; o < w.size(); ++o) {
      double s = b.empty() ? 0.0 : b[o];
      for (size_t i = 0; i < x[t].size(); ++i) s += x[t][i] * w[o][i];
      y[t][o] = s;
    }
  }
  return y;
}

std::vector<double> VecMat(const std::vector<double>& x, const Mat& w, const double* b) {
  std::vector<double> y(w[0].size());  // x W + b, W [in][out]
  for (size_t o = 0; o < y.size(); ++o) {
    double s = b[o];
    for (size_t i = 0; i < x.size(); ++i) s += x[i] * w[i][o];
    y[o] = s;
  }
  return y;
}

Mat RmsNorm(const Mat& x, const std::vector<double>& w, double eps) {
  Mat y = x;
  for (auto& row : y) {
    double ms = 0.0;
    for (double v : row) ms += v * v;
    ms /= static_cast<double>(row.size());
    for (size_t i = 0; i < row.size(); ++i) row[i] = row[i] / std::sqrt(ms + eps) * w[i];
  }
  return y;
}

// Sink-logit attention by definition; probs[h][t][j] and sink[h][t] out.
Mat AttendSinks(const Mat& q, const Mat& k, const Mat& v, const std::vector<double>& sinks,
                int heads, int kv_heads, int head_dim, int window,
                std::vector<Mat>* probs, Mat* sink_mass) {
  const int T = static_cast<int>(q.size());
  Mat out(T, std::vector<double>(heads * head_dim, 0.0));
  probs->assign(heads, Mat(T, std::vector<double>(T, 0.0)));
  sink_mass->assign(heads, std::vector<double>(T, 0.0));
  for (int h = 0; h < heads; ++h) {
    const int g = h / (heads / kv_heads);
    for (int t = 0; t < T; ++t) {
      std::vector<double> z(T, -INFINITY);
      double m = sinks[h];
      for (int j = 0; j <= t; ++j) {
        if (window > 0 && t - j >= window) continue;
        double s = 0.0;
        for (int i = 0; i < head_dim; ++i) s += q[t][h * head_dim + i] * k[j][g * head_dim + i];
        z[j] = s / std::sqrt(static_cast<double>(head_dim));
        m = std::max(m, z[j]);
      }
      double den = std::exp(sinks[h] - m);
      for (int j = 0; j <= t; ++j) den += std::exp(z[j] - m);
      (*sink_mass)[h][t] = std::exp(sinks[h] - m) / den;
      for (int j = 0; j <= t; ++j) {
        const double p = std::exp(z[j] - m) / den;
        (*probs)[h][t][j] = p;
        for (int i = 0; i < head_dim; ++i) out[t][h * head_dim + i] += p * v[j][g * head_dim + i];
      }
    }
  }
  return out;
}

int g_gate_clamped = 0, g_up_clamped = 0;  // how often the naive MoE's clamps fired

// The MoE MLP by definition: router top-k, softmax over the k, clamped interleaved SwiGLU.
Mat NaiveMoe(const ModelConfig& c, const MemoryCheckpoint& ck, const std::string& p,
             const Mat& x) {
  const int E = c.num_experts, K = c.experts_per_token, f = c.intermediate_size;
  const double limit = c.swiglu_limit, alpha = 1.702;
  const Mat r = LinearT(x, ck.Matrix(p + "mlp.router.weight"), ck.Values(p + "mlp.router.bias"));
  const std::vector<double> bgu = ck.Values(p + "mlp.experts.gate_up_proj_bias");
  const std::vector<double> bd = ck.Values(p + "mlp.experts.down_proj_bias");
  Mat y(x.size(), std::vector<double>(c.hidden_size, 0.0));
  for (size_t t = 0; t < x.size(); ++t) {
    std::vector<int> idx(E);
    for (int e = 0; e < E; ++e) idx[e] = e;
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return r[t][a] > r[t][b]; });
    double den = 0.0;
    for (int j = 0; j < K; ++j) den += std::exp(r[t][idx[j]]);
    for (int j = 0; j < K; ++j) {
      const int e = idx[j];
      const double weight = std::exp(r[t][e]) / den;
      const std::vector<double> gu =
          VecMat(x[t], ck.Matrix(p + "mlp.experts.gate_up_proj", e), bgu.data() + e * 2 * f);
      std::vector<double> a(f);
      for (int i = 0; i < f; ++i) {
        g_gate_clamped += gu[2 * i] > limit;
        g_up_clamped += std::abs(gu[2 * i + 1]) > limit;
        const double g = std::min(gu[2 * i], limit);
        const double u = std::max(-limit, std::min(gu[2 * i + 1], limit));
        a[i] = (u + 1.0) * g / (1.0 + std::exp(-alpha * g));
      }
      const std::vector<double> o =
          VecMat(a, ck.Matrix(p + "mlp.experts.down_proj", e), bd.data() + e * c.hidden_size);
      for (int i = 0; i < c.hidden_size; ++i) y[t][i] += weight * o[i];
    }
  }
  return y;
}

struct NaiveOut {
  Mat logits;
  std::vector<std::vector<Mat>> probs;  // [layer][head][t][j]
  std::vector<Mat> sink_mass;           // [layer][head][t]
};

// `rope`: the config's RoPE scaling as the test wrote it (not as parsed).
NaiveOut NaiveGptOss(const ModelConfig& c, const MemoryCheckpoint& ck,
                     const std::vector<int32_t>& ids, const NaiveRopeScaling& rope) {
  NaiveOut out;
  const Mat emb = ck.Matrix("model.embed_tokens.weight");
  Mat h;
  for (int32_t id : ids) h.push_back(emb[id]);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    const std::string a = p + "self_attn.";
    const Mat n = RmsNorm(h, ck.Values(p + "input_layernorm.weight"), c.norm_eps);
    Mat q = LinearT(n, ck.Matrix(a + "q_proj.weight"), ck.Values(a + "q_proj.bias"));
    Mat k = LinearT(n, ck.Matrix(a + "k_proj.weight"), ck.Values(a + "k_proj.bias"));
    const Mat v = LinearT(n, ck.Matrix(a + "v_proj.weight"), ck.Values(a + "v_proj.bias"));
    NaiveRope(&q, c.num_heads, c.head_dim, c.rope_theta, rope);
    NaiveRope(&k, c.num_kv_heads, c.head_dim, c.rope_theta, rope);
    std::vector<Mat> probs;
    Mat sink;
    const Mat att = AttendSinks(q, k, v, ck.Values(a + "sinks"), c.num_heads, c.num_kv_heads,
                                c.head_dim, c.layer_windows[l], &probs, &sink);
    out.probs.push_back(probs);
    out.sink_mass.push_back(sink);
    const Mat o = LinearT(att, ck.Matrix(a + "o_proj.weight"), ck.Values(a + "o_proj.bias"));
    for (size_t t = 0; t < h.size(); ++t) {
      for (int i = 0; i < c.hidden_size; ++i) h[t][i] += o[t][i];
    }
    const Mat n2 = RmsNorm(h, ck.Values(p + "post_attention_layernorm.weight"), c.norm_eps);
    const Mat m = NaiveMoe(c, ck, p, n2);
    for (size_t t = 0; t < h.size(); ++t) {
      for (int i = 0; i < c.hidden_size; ++i) h[t][i] += m[t][i];
    }
  }
  const Mat hf = RmsNorm(h, ck.Values("model.norm.weight"), c.norm_eps);
  out.logits = LinearT(hf, ck.Matrix("lm_head.weight"), {});
  return out;
}

ModelConfig MustParse(const std::string& json) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ModelConfig();
}

void ExpectConfigError(const std::string& json, const std::string& needle) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(json);
  ASSERT_FALSE(c.ok()) << json;
  EXPECT_NE(std::string(c.status().message()).find(needle), std::string::npos)
      << c.status() << " lacks " << needle;
}

// Tiny: d 16, 4 heads / 2 kv heads of 8, 3 layers (sliding 3, full, sliding 3), 4 experts top 2,
// swiglu_limit 1.0 (so that the clamps fire on random weights).
const char kTiny[] = R"({"model_type": "gpt_oss", "hidden_size": 16, "num_hidden_layers": 3,
  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": 6,
  "vocab_size": 29, "num_local_experts": 4, "num_experts_per_tok": 2, "rms_norm_eps": 1e-5,
  "rope_theta": 150000, "sliding_window": 3, "swiglu_limit": 1.0, "attention_bias": true,
  "tie_word_embeddings": false, "hidden_act": "silu", "rope_scaling": null})";

// kTiny with the released checkpoints' rope_scaling (factor 32, beta 32 / 1, L 4096, truncate
// false) and max_position_embeddings. For head_dim 8 and theta 150000 the YaRN ramp runs from
// pair 1.01 to 2.17 (by hand): pairs 0 and 1 unscaled, pair 2 mixed, pair 3 divided by 32.
const char kTinyYarn[] = R"({"model_type": "gpt_oss", "hidden_size": 16, "num_hidden_layers": 3,
  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": 6,
  "vocab_size": 29, "num_local_experts": 4, "num_experts_per_tok": 2, "rms_norm_eps": 1e-5,
  "rope_theta": 150000, "sliding_window": 3, "swiglu_limit": 1.0, "attention_bias": true,
  "tie_word_embeddings": false, "hidden_act": "silu", "max_position_embeddings": 131072,
  "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
  "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false}})";
NaiveRopeScaling ReleasedYarn() {
  NaiveRopeScaling r;
  r.type = "yarn";
  r.factor = 32.0;
  r.beta_fast = 32.0;
  r.beta_slow = 1.0;
  r.original_max_position_embeddings = 4096;
  r.truncate = false;
  return r;
}
// truncate true (ramp from pair 1 to 3) and an explicit attention_factor.
const char kTinyYarnTruncated[] = R"({"model_type": "gpt_oss", "hidden_size": 16,
  "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
  "intermediate_size": 6, "vocab_size": 29, "num_local_experts": 4, "num_experts_per_tok": 2,
  "rope_theta": 150000, "sliding_window": 3, "swiglu_limit": 1.0,
  "rope_scaling": {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096,
  "attention_factor": 1.2}})";
NaiveRopeScaling TruncatedYarn() {
  NaiveRopeScaling r;
  r.type = "yarn";
  r.factor = 16.0;
  r.original_max_position_embeddings = 4096;
  r.truncate = true;
  r.attention_factor = 1.2;
  return r;
}

TEST(GptOssConfigTest, ParsesKeysAndDefaults) {
  const ModelConfig c = MustParse(kTiny);
  EXPECT_EQ(c.family, ModelFamily::kGptOss);
  EXPECT_EQ(c.mlp, MlpKind::kMoeClampedSwiGlu);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.num_experts, 4);
  EXPECT_EQ(c.experts_per_token, 2);
  EXPECT_FLOAT_EQ(c.swiglu_limit, 1.0f);
  EXPECT_FLOAT_EQ(c.swiglu_alpha, 1.702f);
  EXPECT_TRUE(c.attention_sinks && c.qkv_bias && c.o_bias);
  EXPECT_EQ(c.layer_windows, (std::vector<int>{3, 0, 3}));
  const attention::AttentionSpec s0 = AttentionSpecForLayer(c, 0), s1 = AttentionSpecForLayer(c, 1);
  EXPECT_EQ(s0.variant, attention::Variant::kSinkLogit);
  EXPECT_EQ(s0.mask, attention::MaskKind::kSliding);
  EXPECT_EQ(s0.window, 3);
  EXPECT_EQ(s1.mask, attention::MaskKind::kCausal);
  EXPECT_TRUE(s0.q_bias && s0.k_bias && s0.v_bias && s0.o_bias);
  EXPECT_EQ(s0.rope_layout, attention::RopeLayout::kRotateHalf);

  const ModelConfig d = MustParse(R"({"model_type": "gpt_oss", "hidden_size": 32,
    "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 10,
    "num_local_experts": 8, "experts_per_token": 3,
    "layer_types": ["full_attention", "sliding_attention", "full_attention", "full_attention"]})");
  EXPECT_EQ(d.head_dim, 64);
  EXPECT_EQ(d.num_kv_heads, 4);
  EXPECT_EQ(d.experts_per_token, 3);
  EXPECT_FLOAT_EQ(d.rope_theta, 150000.0f);
  EXPECT_DOUBLE_EQ(d.norm_eps, 1e-5);
  EXPECT_FLOAT_EQ(d.swiglu_limit, 7.0f);
  EXPECT_FALSE(d.tie_word_embeddings);
  EXPECT_EQ(d.layer_windows, (std::vector<int>{0, 128, 0, 0}));
  const ModelConfig e = MustParse(R"({"model_type": "gpt_oss", "hidden_size": 32,
    "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 10,
    "num_local_experts": 8, "num_experts_per_tok": 2})");
  EXPECT_EQ(e.layer_windows, (std::vector<int>{128, 0, 128, 0}));
}

TEST(GptOssConfigTest, ParsesTheReleasedYarnScaling) {
  const ModelConfig c = MustParse(kTinyYarn);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  const attention::RopeScaling& y = c.rope_scaling;
  EXPECT_EQ(y.type, attention::RopeScalingType::kYarn);
  EXPECT_EQ(y.factor, 32.0);
  EXPECT_EQ(y.beta_fast, 32.0);
  EXPECT_EQ(y.beta_slow, 1.0);
  EXPECT_EQ(y.original_max_position_embeddings, 4096);
  EXPECT_FALSE(y.truncate);
  EXPECT_EQ(y.attention_factor, 0.0);  // derived: 0.1 ln 32 + 1
  for (int l = 0; l < c.num_layers; ++l) {
    const attention::AttentionSpec s = AttentionSpecForLayer(c, l);
    EXPECT_EQ(s.rope_scaling, y);
    EXPECT_TRUE(attention::ValidateSpec(s).ok()) << attention::ValidateSpec(s);
  }
  const ModelConfig t = MustParse(kTinyYarnTruncated);
  EXPECT_TRUE(t.rope_scaling.truncate);
  EXPECT_EQ(t.rope_scaling.attention_factor, 1.2);
  EXPECT_TRUE(MustParse(kTiny).rope_scaling.is_none());
}

TEST(GptOssConfigTest, ErrorsNameTheKey) {
  const std::string base = R"("model_type": "gpt_oss", "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 10)";
  ExpectConfigError("{" + base + R"(, "num_experts_per_tok": 2})", "'num_local_experts' is missing");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4})", "'num_experts_per_tok' is missing");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 5})",
                    "'num_experts_per_tok' (5) exceeds num_local_experts (4)");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "experts_per_token": 5})",
                    "'experts_per_token' (5) exceeds");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "swiglu_limit": -1})", "'swiglu_limit' must be a positive number");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "layer_types": ["sliding_attention"]})", "'layer_types'");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "sliding_window": 0})", "'sliding_window'");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "rope_scaling": {"rope_type": "dynamic", "factor": 32.0}})",
                    "key 'rope_scaling.rope_type' is 'dynamic', which is not supported "
                    "(supported: default, linear, yarn, llama3)");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 0.5}})",
                    "'rope_scaling' rope scaling yarn: beta_fast (0.5) must be >= beta_slow (1)");
  ExpectConfigError("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
                    "quantization_config": {"quant_method": "bitsandbytes"}})",
                    "'quantization_config' with quant_method 'bitsandbytes' is not supported");
  MustParse("{" + base + R"(, "num_local_experts": 4, "num_experts_per_tok": 2,
            "quantization_config": {"quant_method": "mxfp4"}})");
}

struct Case {
  const char* name;
  const char* config;
  DType dtype;
  int tokens;
  NaiveRopeScaling rope;  // what the config's rope_scaling says, for the naive forward
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GptOssParityTest : public ::testing::TestWithParam<Case> {};

TEST_P(GptOssParityTest, LogitsAndSinkAttentionMatchNaiveForward) {
  const Case& tc = GetParam();
  const ModelConfig c = MustParse(tc.config);
  MemoryCheckpoint ck(tc.dtype, 17);
  AddGptOssTensors(c, &ck);
  absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  std::mt19937 rng(5);
  std::vector<int32_t> ids(tc.tokens);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng() % c.vocab_size);
  g_gate_clamped = g_up_clamped = 0;
  const NaiveOut want = NaiveGptOss(c, ck, ids, tc.rope);
  EXPECT_GT(g_gate_clamped, 0);  // the clamps are exercised
  EXPECT_GT(g_up_clamped, 0);

  int calls = 0;
  double max_sink = 0.0;
  ForwardHooks hooks;
  hooks.capture_attention = true;
  hooks.on_layer = [&](int layer, const LayerCapture& cap) {
    EXPECT_EQ(layer, calls++);
    ASSERT_NE(cap.attention, nullptr);
    ASSERT_NE(cap.attention_layer, nullptr);
    EXPECT_EQ(cap.attention_layer->spec().variant, attention::Variant::kSinkLogit);
    const attention::AttentionIntermediates& a = *cap.attention;
    ASSERT_EQ(static_cast<int>(a.probs.size()), c.num_heads);
    ASSERT_EQ(a.slot_mass.rows(), c.num_heads);
    ASSERT_EQ(a.slot_mass.cols(), tc.tokens);
    for (int h = 0; h < c.num_heads; ++h) {
      ASSERT_EQ(a.probs[h].cols(), tc.tokens);  // no prefix keys: the sink carries no value
      for (int q = 0; q < tc.tokens; ++q) {
        const double sum = a.probs[h].row(q).cast<double>().sum() + a.slot_mass(h, q);
        EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << layer << " head " << h << " query " << q;
        EXPECT_NEAR(a.slot_mass(h, q), want.sink_mass[layer][h][q], 1e-4);
        max_sink = std::max(max_sink, want.sink_mass[layer][h][q]);
        for (int j = 0; j < tc.tokens; ++j) {
          EXPECT_NEAR(a.probs[h](q, j), want.probs[layer][h][q][j], 1e-4)
              << "layer " << layer << " head " << h << " query " << q << " key " << j;
        }
      }
    }
  };
  absl::StatusOr<ForwardResult> r = t->Forward(ids, hooks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, c.num_layers);
  EXPECT_GT(max_sink, 0.1);  // the sinks matter in this model
  ASSERT_EQ(r->logits.rows(), tc.tokens);
  ASSERT_EQ(r->logits.cols(), c.vocab_size);
  double scale = 0.0;
  for (const auto& row : want.logits) {
    for (double z : row) scale = std::max(scale, std::abs(z));
  }
  for (int q = 0; q < tc.tokens; ++q) {
    for (int j = 0; j < c.vocab_size; ++j) {
      EXPECT_NEAR(r->logits(q, j), want.logits[q][j], 1e-4 * std::max(1.0, scale))
          << "token " << q << " vocab " << j;
    }
  }
  if (tc.rope.type != "default") {  // the scaling matters: unscaled RoPE is far off
    const NaiveOut plain = NaiveGptOss(c, ck, ids, NaiveRopeScaling());
    double diff = 0.0;
    for (int q = 0; q < tc.tokens; ++q) {
      for (int j = 0; j < c.vocab_size; ++j) {
        diff = std::max(diff, std::abs(plain.logits[q][j] - want.logits[q][j]));
      }
    }
    EXPECT_GT(diff, 1e-2 * scale);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GptOssParityTest,
                         ::testing::Values(
                             Case{"f32", kTiny, DType::kF32, 9, {}},
                             Case{"bf16", kTiny, DType::kBF16, 7, {}},
                             Case{"one_token_f32", kTiny, DType::kF32, 1, {}},
                             Case{"yarn_released_f32", kTinyYarn, DType::kF32, 12, ReleasedYarn()},
                             Case{"yarn_released_bf16", kTinyYarn, DType::kBF16, 9, ReleasedYarn()},
                             Case{"yarn_truncated_f32", kTinyYarnTruncated, DType::kF32, 12,
                                  TruncatedYarn()}),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(GptOssTransformerTest, CheckpointErrorsNameTheTensor) {
  const ModelConfig c = MustParse(kTiny);
  for (const std::string name :
       {"model.layers.1.self_attn.sinks", "model.layers.0.mlp.router.bias",
        "model.layers.2.mlp.experts.down_proj_bias", "model.layers.0.self_attn.o_proj.bias"}) {
    MemoryCheckpoint ck(DType::kF32, 3);
    AddGptOssTensors(c, &ck);
    ck.Erase(name);
    absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
    ASSERT_FALSE(t.ok()) << name;
    EXPECT_NE(std::string(t.status().message()).find(name), std::string::npos) << t.status();
  }
}

// MXFP4 experts: random blocks / scales; the reference decodes them here (E2M1 magnitudes
// {0, .5, 1, 1.5, 2, 3, 4, 6}, bit 3 sign, low nibble first, times 2^(scale - 127), rows the
// output features) into an F32 checkpoint that the naive forward runs.
TEST(GptOssTransformerTest, Mxfp4ExpertsMatchDecodedWeights) {
  const ModelConfig c = MustParse(R"({"model_type": "gpt_oss", "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
    "intermediate_size": 32, "vocab_size": 29, "num_local_experts": 4, "num_experts_per_tok": 2,
    "sliding_window": 3, "swiglu_limit": 2.0, "quantization_config": {"quant_method": "mxfp4"}})");
  MemoryCheckpoint ref(DType::kF32, 21);
  AddGptOssTensors(c, &ref);
  MemoryCheckpoint q = ref;
  std::mt19937 rng(9);
  const int64_t E = c.num_experts, d = c.hidden_size, f = c.intermediate_size;
  const double kMag[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string x = absl::StrCat("model.layers.", l, ".mlp.experts.");
    for (const auto& [name, out, in, exp_lo] :
         {std::tuple<std::string, int64_t, int64_t, int>{"gate_up_proj", 2 * f, d, 122},
          std::tuple<std::string, int64_t, int64_t, int>{"down_proj", d, f, 121}}) {
      const int64_t G = in / 32;
      std::string blocks(E * out * G * 16, '\0'), scales(E * out * G, '\0');
      for (char& b : blocks) b = static_cast<char>(rng() & 0xff);
      for (char& s : scales) s = static_cast<char>(exp_lo + rng() % 4);
      std::vector<float> w(E * in * out);  // [E, in, out]
      for (int64_t e = 0; e < E; ++e) {
        for (int64_t r = 0; r < out; ++r) {
          for (int64_t g = 0; g < G; ++g) {
            const int64_t idx = (e * out + r) * G + g;
            const double scale = std::pow(2.0, static_cast<uint8_t>(scales[idx]) - 127.0);
            for (int64_t k = 0; k < 32; ++k) {
              const uint8_t byte = static_cast<uint8_t>(blocks[idx * 16 + k / 2]);
              const int nib = k % 2 == 0 ? byte & 0xF : byte >> 4;
              const double v = (nib & 8 ? -1.0 : 1.0) * kMag[nib & 7] * scale;
              w[(e * in + g * 32 + k) * out + r] = static_cast<float>(v);
            }
          }
        }
      }
      ref.AddF32(x + name, {E, in, out}, w);
      q.Erase(x + name);
      q.AddRaw(x + name + "_blocks", DType::kU8, {E, out, G, 16}, blocks);
      q.AddRaw(x + name + "_scales", DType::kU8, {E, out, G}, scales);
    }
  }
  absl::StatusOr<Transformer> t = Transformer::Create(c, q.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<int32_t> ids = {3, 17, 0, 28, 5, 5, 11, 2};
  absl::StatusOr<ForwardResult> r = t->Forward(ids);
  ASSERT_TRUE(r.ok()) << r.status();
  const NaiveOut want = NaiveGptOss(c, ref, ids, NaiveRopeScaling());
  double scale = 0.0;
  for (const auto& row : want.logits) {
    for (double z : row) scale = std::max(scale, std::abs(z));
  }
  for (size_t t2 = 0; t2 < ids.size(); ++t2) {
    for (int j = 0; j < c.vocab_size; ++j) {
      EXPECT_NEAR(r->logits(t2, j), want.logits[t2][j], 1e-4 * std::max(1.0, scale));
    }
  }
  // A scales tensor of the wrong shape is named.
  q.AddRaw("model.layers.1.mlp.experts.down_proj_scales", DType::kU8, {E, d, 2}, "");
  t = Transformer::Create(c, q.Source());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("model.layers.1.mlp.experts.down_proj_scales"),
            std::string::npos) << t.status();
}

}  // namespace
}  // namespace sinkscope::model
