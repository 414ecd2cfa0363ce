// The forward pass against a naive double-precision forward written here from the formulas
// (attention by definition, RoPE rotate_half, RMSNorm / LayerNorm, SwiGLU / GELU-tanh, Conv1D),
// on tiny random models of every supported family, weights in F32 and BF16; the hooks; mean NLL;
// config.json parsing and its errors.
#include "model/transformer.h"

#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/model_config.h"
#include "model/safetensors.h"
#include "tests/model/fixture_models.h"
#include "tests/model/memory_checkpoint.h"
#include "tests/model/naive_rope.h"

namespace sinkscope::model {
namespace {

using test_support::Mat;
using test_support::AddGpt2Tensors;
using test_support::AddLlamaTensors;
using test_support::MemoryCheckpoint;
using test_support::NaiveRope;
using test_support::NaiveRopeScaling;

// ---------------------------------------------------------------- naive forward (double)

// nn.Linear: y = x W^T + b, W [out][in].
Mat LinearT(const Mat& x, const Mat& w, const std::vector<double>* b) {
  Mat y(x.size(), std::vector<double>(w.size(), 0.0));
  for (size_t t = 0; t < x.size(); ++t) {
    for (size_t o = 0; o < w.size(); ++o) {
      double s = b != nullptr ? (*b)[o] : 0.0;
      for (size_t i = 0; i < x[t].size(); ++i) s += x[t][i] * w[o][i];
      y[t][o] = s;
    }
  }
  return y;
}

// Conv1D: y = x W + b, W [in][out].
Mat Conv1D(const Mat& x, const Mat& w, const std::vector<double>& b) {
  Mat y(x.size(), std::vector<double>(w[0].size(), 0.0));
  for (size_t t = 0; t < x.size(); ++t) {
    for (size_t o = 0; o < w[0].size(); ++o) {
      double s = b[o];
      for (size_t i = 0; i < x[t].size(); ++i) s += x[t][i] * w[i][o];
      y[t][o] = s;
    }
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

Mat LayerNorm(const Mat& x, const std::vector<double>& w, const std::vector<double>& b,
              double eps) {
  Mat y = x;
  for (auto& row : y) {
    double mean = 0.0, var = 0.0;
    for (double v : row) mean += v;
    mean /= static_cast<double>(row.size());
    for (double v : row) var += (v - mean) * (v - mean);
    var /= static_cast<double>(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
      row[i] = (row[i] - mean) / std::sqrt(var + eps) * w[i] + b[i];
    }
  }
  return y;
}

// Causal (window 0) or sliding-window attention; query head h uses kv head h / (H / KVH).
Mat Attend(const Mat& q, const Mat& k, const Mat& v, int heads, int kv_heads, int head_dim,
           int window) {
  const int T = static_cast<int>(q.size());
  Mat out(T, std::vector<double>(heads * head_dim, 0.0));
  for (int h = 0; h < heads; ++h) {
    const int g = h / (heads / kv_heads);
    for (int t = 0; t < T; ++t) {
      std::vector<double> z(T, -INFINITY);
      double m = -INFINITY;
      for (int j = 0; j <= t; ++j) {
        if (window > 0 && t - j >= window) continue;
        double s = 0.0;
        for (int i = 0; i < head_dim; ++i) s += q[t][h * head_dim + i] * k[j][g * head_dim + i];
        z[j] = s / std::sqrt(static_cast<double>(head_dim));
        m = std::max(m, z[j]);
      }
      double sum = 0.0;
      for (int j = 0; j <= t; ++j) sum += std::exp(z[j] - m);
      for (int j = 0; j <= t; ++j) {
        const double p = std::exp(z[j] - m) / sum;
        for (int i = 0; i < head_dim; ++i) out[t][h * head_dim + i] += p * v[j][g * head_dim + i];
      }
    }
  }
  return out;
}

void AddInPlace(Mat* a, const Mat& b) {
  for (size_t t = 0; t < a->size(); ++t) {
    for (size_t i = 0; i < (*a)[t].size(); ++i) (*a)[t][i] += b[t][i];
  }
}

// `rope`: the config's RoPE scaling as the test wrote it (not as parsed).
Mat NaiveLlama(const ModelConfig& c, const MemoryCheckpoint& ck, const std::vector<int32_t>& ids,
               const NaiveRopeScaling& rope) {
  const Mat emb = ck.Matrix("model.embed_tokens.weight");
  Mat h;
  for (int32_t id : ids) h.push_back(emb[id]);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    const Mat n = RmsNorm(h, ck.Values(p + "input_layernorm.weight"), c.norm_eps);
    const auto bias = [&](const std::string& name) {
      return ck.Has(name) ? std::optional<std::vector<double>>(ck.Values(name)) : std::nullopt;
    };
    const auto ptr = [](const std::optional<std::vector<double>>& b) {
      return b.has_value() ? &*b : nullptr;
    };
    const auto bq = bias(p + "self_attn.q_proj.bias"), bk = bias(p + "self_attn.k_proj.bias"),
               bv = bias(p + "self_attn.v_proj.bias"), bo = bias(p + "self_attn.o_proj.bias");
    Mat q = LinearT(n, ck.Matrix(p + "self_attn.q_proj.weight"), ptr(bq));
    Mat k = LinearT(n, ck.Matrix(p + "self_attn.k_proj.weight"), ptr(bk));
    const Mat v = LinearT(n, ck.Matrix(p + "self_attn.v_proj.weight"), ptr(bv));
    NaiveRope(&q, c.num_heads, c.head_dim, c.rope_theta, rope);
    NaiveRope(&k, c.num_kv_heads, c.head_dim, c.rope_theta, rope);
    const Mat a = Attend(q, k, v, c.num_heads, c.num_kv_heads, c.head_dim, c.layer_windows[l]);
    AddInPlace(&h, LinearT(a, ck.Matrix(p + "self_attn.o_proj.weight"), ptr(bo)));
    const Mat n2 = RmsNorm(h, ck.Values(p + "post_attention_layernorm.weight"), c.norm_eps);
    Mat g = LinearT(n2, ck.Matrix(p + "mlp.gate_proj.weight"), nullptr);
    const Mat u = LinearT(n2, ck.Matrix(p + "mlp.up_proj.weight"), nullptr);
    for (size_t t = 0; t < g.size(); ++t) {
      for (size_t i = 0; i < g[t].size(); ++i) g[t][i] = g[t][i] / (1.0 + std::exp(-g[t][i])) * u[t][i];
    }
    AddInPlace(&h, LinearT(g, ck.Matrix(p + "mlp.down_proj.weight"), nullptr));
  }
  const Mat hf = RmsNorm(h, ck.Values("model.norm.weight"), c.norm_eps);
  return LinearT(hf, ck.Matrix(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight"),
                 nullptr);
}

Mat NaiveGpt2(const ModelConfig& c, const MemoryCheckpoint& ck, const std::string& root,
              const std::vector<int32_t>& ids) {
  const int d = c.hidden_size;
  const Mat wte = ck.Matrix(root + "wte.weight"), wpe = ck.Matrix(root + "wpe.weight");
  Mat h;
  for (size_t t = 0; t < ids.size(); ++t) {
    h.push_back(wte[ids[t]]);
    for (int i = 0; i < d; ++i) h[t][i] += wpe[t][i];
  }
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat(root, "h.", l, ".");
    const Mat n = LayerNorm(h, ck.Values(p + "ln_1.weight"), ck.Values(p + "ln_1.bias"), c.norm_eps);
    const Mat qkv = Conv1D(n, ck.Matrix(p + "attn.c_attn.weight"), ck.Values(p + "attn.c_attn.bias"));
    Mat q, k, v;
    for (const auto& row : qkv) {
      q.emplace_back(row.begin(), row.begin() + d);
      k.emplace_back(row.begin() + d, row.begin() + 2 * d);
      v.emplace_back(row.begin() + 2 * d, row.end());
    }
    const Mat a = Attend(q, k, v, c.num_heads, c.num_heads, c.head_dim, 0);
    AddInPlace(&h, Conv1D(a, ck.Matrix(p + "attn.c_proj.weight"), ck.Values(p + "attn.c_proj.bias")));
    const Mat n2 = LayerNorm(h, ck.Values(p + "ln_2.weight"), ck.Values(p + "ln_2.bias"), c.norm_eps);
    Mat f = Conv1D(n2, ck.Matrix(p + "mlp.c_fc.weight"), ck.Values(p + "mlp.c_fc.bias"));
    for (auto& row : f) {
      for (double& x : row) {
        x = 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
      }
    }
    AddInPlace(&h, Conv1D(f, ck.Matrix(p + "mlp.c_proj.weight"), ck.Values(p + "mlp.c_proj.bias")));
  }
  const Mat hf = LayerNorm(h, ck.Values(root + "ln_f.weight"), ck.Values(root + "ln_f.bias"), c.norm_eps);
  return LinearT(hf, wte, nullptr);
}

double NaiveMeanNll(const Mat& logits, const std::vector<int32_t>& ids) {
  double total = 0.0;
  for (size_t t = 0; t + 1 < ids.size(); ++t) {
    double m = -INFINITY;
    for (double z : logits[t]) m = std::max(m, z);
    double s = 0.0;
    for (double z : logits[t]) s += std::exp(z - m);
    total += -(logits[t][ids[t + 1]] - m - std::log(s));
  }
  return total / static_cast<double>(ids.size() - 1);
}

std::vector<int32_t> RandomIds(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, vocab - 1);
  std::vector<int32_t> ids(n);
  for (int32_t& x : ids) x = u(rng);
  return ids;
}

void ExpectLogitsNear(const FloatMatrix& got, const Mat& want) {
  ASSERT_EQ(got.rows(), static_cast<int64_t>(want.size()));
  ASSERT_EQ(got.cols(), static_cast<int64_t>(want[0].size()));
  double max_ref = 0.0, max_err = 0.0;
  for (size_t t = 0; t < want.size(); ++t) {
    for (size_t j = 0; j < want[t].size(); ++j) {
      max_ref = std::max(max_ref, std::abs(want[t][j]));
      max_err = std::max(max_err, std::abs(want[t][j] - got(t, j)));
    }
  }
  EXPECT_GT(max_ref, 0.1);
  EXPECT_LE(max_err, 1e-4 * max_ref) << "max_err " << max_err << " max_ref " << max_ref;
}

ModelConfig MustParse(const std::string& json) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : ModelConfig();
}

// ---------------------------------------------------------------- parity per family

struct Case {
  std::string name;
  std::string config;
  DType dtype;
  std::string gpt2_root;  // gpt2 only
  int tokens;
  NaiveRopeScaling rope;  // what the config's rope_scaling says, for the naive forward
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ParityTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParityTest, LogitsAndNllMatchNaiveForward) {
  const Case& tc = GetParam();
  const ModelConfig c = MustParse(tc.config);
  MemoryCheckpoint ck(tc.dtype, 11);
  if (c.family == ModelFamily::kGpt2) {
    AddGpt2Tensors(c, tc.gpt2_root, &ck);
  } else {
    AddLlamaTensors(c, &ck);
  }
  absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  const std::vector<int32_t> ids = RandomIds(tc.tokens, c.vocab_size, 5);
  int calls = 0;
  ForwardHooks hooks;
  hooks.on_layer = [&](int layer, const LayerCapture& cap) {
    EXPECT_EQ(layer, calls++);
    EXPECT_EQ(cap.block_output.rows(), tc.tokens);
    EXPECT_EQ(cap.block_output.cols(), c.hidden_size);
    EXPECT_EQ(cap.attention, nullptr);
  };
  absl::StatusOr<ForwardResult> r = t->Forward(ids, hooks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, c.num_layers);
  const Mat want = c.family == ModelFamily::kGpt2 ? NaiveGpt2(c, ck, tc.gpt2_root, ids)
                                                  : NaiveLlama(c, ck, ids, tc.rope);
  ExpectLogitsNear(r->logits, want);
  if (tc.rope.type != "default") {  // the scaling matters: unscaled RoPE is far off
    const Mat plain = NaiveLlama(c, ck, ids, NaiveRopeScaling());
    double diff = 0.0, ref = 0.0;
    for (size_t t = 0; t < want.size(); ++t) {
      for (size_t j = 0; j < want[t].size(); ++j) {
        diff = std::max(diff, std::abs(plain[t][j] - want[t][j]));
        ref = std::max(ref, std::abs(want[t][j]));
      }
    }
    EXPECT_GT(diff, 1e-2 * ref);
  }
  EXPECT_EQ(r->num_predicted, tc.tokens - 1);
  if (tc.tokens == 1) {
    EXPECT_TRUE(std::isnan(r->mean_nll));
  } else {
    const double nll = NaiveMeanNll(want, ids);
    EXPECT_NEAR(r->mean_nll, nll, 1e-4 * std::abs(nll));
  }
}

const char kLlamaGqa[] = R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 29,
  "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": null, "hidden_act": "silu"})";
const char kLlamaTiedMqa[] = R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 6, "intermediate_size": 20,
  "vocab_size": 31, "rms_norm_eps": 1e-6, "rope_theta": 500000, "tie_word_embeddings": true,
  "attention_bias": true})";
const char kQwen2[] = R"({"model_type": "qwen2", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 23,
  "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "sliding_window": 4, "use_sliding_window": false,
  "max_window_layers": 1, "tie_word_embeddings": false})";
const char kMistral[] = R"({"model_type": "mistral", "hidden_size": 16, "num_hidden_layers": 3,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 19,
  "rms_norm_eps": 1e-5, "sliding_window": 3})";
// Llama 3.1-style scaling with a short original context, so that all three bands occur within
// head_dim 8 (wavelengths 2 pi 10000^(i/4): 6.3, 63, 628, 6283 against 128 / 4 and 128 / 1):
// pair 0 unscaled, pair 1 smoothed, pairs 2 and 3 divided by the factor.
const char kLlama3Scaled[] = R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": 24,
  "vocab_size": 29, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 1024,
  "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
  "high_freq_factor": 4.0, "original_max_position_embeddings": 128}})";
NaiveRopeScaling Llama3Scaled() {
  NaiveRopeScaling r;
  r.type = "llama3";
  r.factor = 8.0;
  r.low_freq_factor = 1.0;
  r.high_freq_factor = 4.0;
  r.original_max_position_embeddings = 128;
  return r;
}
// Legacy "type" key, linear.
const char kQwen2Linear[] = R"({"model_type": "qwen2", "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24, "vocab_size": 23,
  "rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 4.0}})";
NaiveRopeScaling Linear4() {
  NaiveRopeScaling r;
  r.type = "linear";
  r.factor = 4.0;
  return r;
}
const char kGpt2[] = R"({"model_type": "gpt2", "n_embd": 16, "n_layer": 2, "n_head": 4,
  "n_positions": 12, "vocab_size": 27, "layer_norm_epsilon": 1e-5,
  "activation_function": "gelu_new", "n_inner": null})";

INSTANTIATE_TEST_SUITE_P(
    Families, ParityTest,
    ::testing::Values(
        Case{"llama_gqa_untied_f32", kLlamaGqa, DType::kF32, "", 7, {}},
        Case{"llama_gqa_untied_bf16", kLlamaGqa, DType::kBF16, "", 7, {}},
        Case{"llama_mqa_tied_headdim_bias_bf16", kLlamaTiedMqa, DType::kBF16, "", 8, {}},
        Case{"qwen2_qkv_bias_f32", kQwen2, DType::kF32, "", 9, {}},
        Case{"mistral_window3_bf16", kMistral, DType::kBF16, "", 9, {}},
        Case{"mistral_window3_f32", kMistral, DType::kF32, "", 1, {}},
        Case{"gpt2_prefix_f32", kGpt2, DType::kF32, "transformer.", 10, {}},
        Case{"gpt2_no_prefix_bf16", kGpt2, DType::kBF16, "", 12, {}},
        Case{"llama_llama3_rope_scaling_f32", kLlama3Scaled, DType::kF32, "", 12, Llama3Scaled()},
        Case{"llama_llama3_rope_scaling_bf16", kLlama3Scaled, DType::kBF16, "", 9, Llama3Scaled()},
        Case{"qwen2_linear_rope_scaling_f32", kQwen2Linear, DType::kF32, "", 10, Linear4()}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// ---------------------------------------------------------------- hooks

TEST(TransformerTest, HooksSeeConsistentHiddenStatesAndAttention) {
  const ModelConfig c = MustParse(kMistral);
  MemoryCheckpoint ck(DType::kF32, 3);
  AddLlamaTensors(c, &ck);
  absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  const int T = 8;
  FloatMatrix previous_output;
  std::vector<int> calls;
  ForwardHooks hooks;
  hooks.capture_attention_for_layer = [](int layer) { return layer != 1; };
  hooks.on_layer = [&](int layer, const LayerCapture& cap) {
    calls.push_back(layer);
    for (const FloatMatrix* m : {&cap.block_input, &cap.attention_input, &cap.attention_output,
                                 &cap.mlp_input, &cap.mlp_output, &cap.block_output}) {
      EXPECT_EQ(m->rows(), T);
      EXPECT_EQ(m->cols(), c.hidden_size);
    }
    if (layer > 0) {
      EXPECT_EQ((cap.block_input - previous_output).cwiseAbs().maxCoeff(), 0.0f);
    }
    const FloatMatrix sum = cap.block_input + cap.attention_output + cap.mlp_output;
    EXPECT_LE((sum - cap.block_output).cwiseAbs().maxCoeff(), 1e-5f);
    previous_output = cap.block_output;
    if (layer == 1) {
      EXPECT_EQ(cap.attention, nullptr);
      return;
    }
    ASSERT_NE(cap.attention, nullptr);
    const attention::AttentionIntermediates& a = *cap.attention;
    EXPECT_EQ(a.q.rows(), T);
    EXPECT_EQ(a.q.cols(), c.num_heads * c.head_dim);
    EXPECT_EQ(a.k.cols(), c.num_kv_heads * c.head_dim);
    ASSERT_EQ(static_cast<int>(a.probs.size()), c.num_heads);
    for (const FloatMatrix& p : a.probs) {
      ASSERT_EQ(p.rows(), T);
      ASSERT_EQ(p.cols(), T);
      for (int q = 0; q < T; ++q) {
        EXPECT_NEAR(p.row(q).sum(), 1.0f, 1e-5f);
        for (int k = 0; k < T; ++k) {
          if (k > q || q - k >= 3) {  // window 3
            EXPECT_EQ(p(q, k), 0.0f) << q << "," << k;
          }
        }
      }
    }
  };
  ASSERT_TRUE(t->Forward(RandomIds(T, c.vocab_size, 2), hooks).ok());
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2}));
}

// ---------------------------------------------------------------- safetensors source

TEST(TransformerTest, SafetensorsFileSourceGivesSameLogits) {
  const ModelConfig c = MustParse(kLlamaTiedMqa);
  MemoryCheckpoint ck(DType::kBF16, 9);
  AddLlamaTensors(c, &ck);
  std::vector<TensorToWrite> out;
  for (const auto& [name, s] : ck.tensors()) out.push_back({name, s.dtype, s.shape, s.bytes});
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/tiny.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, out).ok());
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsFile& f = **file;
  TensorSource source = [&f](const std::string& name) -> absl::StatusOr<TypedTensorView> {
    const TensorInfo* info = f.Find(name);
    if (info == nullptr) return absl::NotFoundError(name);
    return f.View(*info);
  };
  absl::StatusOr<Transformer> from_file = Transformer::Create(c, source);
  absl::StatusOr<Transformer> from_memory = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ASSERT_TRUE(from_memory.ok());
  const std::vector<int32_t> ids = RandomIds(6, c.vocab_size, 4);
  absl::StatusOr<ForwardResult> a = from_file->Forward(ids);
  absl::StatusOr<ForwardResult> b = from_memory->Forward(ids);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((a->logits - b->logits).cwiseAbs().maxCoeff(), 0.0f);
}

// ---------------------------------------------------------------- errors

TEST(TransformerTest, CheckpointErrorsNameTheTensor) {
  const ModelConfig c = MustParse(kLlamaGqa);
  {
    MemoryCheckpoint ck(DType::kF32, 1);
    AddLlamaTensors(c, &ck);
    ck.Erase("model.layers.1.self_attn.k_proj.weight");
    absl::Status st = Transformer::Create(c, ck.Source()).status();
    EXPECT_TRUE(absl::IsNotFound(st)) << st;
    EXPECT_NE(st.message().find("'model.layers.1.self_attn.k_proj.weight'"), std::string::npos)
        << st;
  }
  {
    MemoryCheckpoint ck(DType::kF32, 1);
    AddLlamaTensors(c, &ck);
    ck.Erase("lm_head.weight");  // untied: required
    absl::Status st = Transformer::Create(c, ck.Source()).status();
    EXPECT_NE(st.message().find("lm_head.weight"), std::string::npos) << st;
  }
  {
    MemoryCheckpoint ck(DType::kF32, 1);
    AddLlamaTensors(c, &ck);
    ck.Reshape("model.layers.0.mlp.up_proj.weight", {16, 24});
    absl::Status st = Transformer::Create(c, ck.Source()).status();
    EXPECT_NE(st.message().find("model.layers.0.mlp.up_proj.weight"), std::string::npos) << st;
    EXPECT_NE(st.message().find("[24, 16]"), std::string::npos) << st;
  }
  {
    const ModelConfig g = MustParse(kGpt2);
    MemoryCheckpoint ck(DType::kF32, 1);
    AddGpt2Tensors(g, "transformer.", &ck);
    ck.Erase("transformer.h.1.mlp.c_fc.bias");
    absl::Status st = Transformer::Create(g, ck.Source()).status();
    EXPECT_NE(st.message().find("transformer.h.1.mlp.c_fc.bias"), std::string::npos) << st;
  }
  {
    TensorSource broken = [](const std::string&) -> absl::StatusOr<TypedTensorView> {
      return absl::DataLossError("disk on fire");
    };
    EXPECT_TRUE(absl::IsDataLoss(Transformer::Create(c, broken).status()));
  }
}

TEST(TransformerTest, ForwardRejectsBadTokens) {
  const ModelConfig c = MustParse(kGpt2);
  MemoryCheckpoint ck(DType::kF32, 1);
  AddGpt2Tensors(c, "", &ck);
  absl::StatusOr<Transformer> t = Transformer::Create(c, ck.Source());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->Forward({}).ok());
  absl::Status st = t->Forward({1, 27, 2}).status();
  EXPECT_NE(st.message().find("token id 27 at position 1"), std::string::npos) << st;
  EXPECT_FALSE(t->Forward({1, -1}).ok());
  EXPECT_FALSE(t->Forward(std::vector<int32_t>(13, 1)).ok());  // n_positions 12
  absl::StatusOr<ForwardResult> one = t->Forward({3});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(std::isnan(one->mean_nll));
  EXPECT_EQ(one->num_predicted, 0);
}

// ---------------------------------------------------------------- config.json

void ExpectConfigError(const std::string& json, const std::string& fragment) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(json);
  ASSERT_FALSE(c.ok()) << json;
  EXPECT_NE(c.status().message().find(fragment), std::string::npos)
      << c.status() << " should mention " << fragment;
}

TEST(ModelConfigTest, LlamaFamilyDefaults) {
  const ModelConfig c = MustParse(
      R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 3,
          "num_attention_heads": 8, "intermediate_size": 100, "vocab_size": 50})");
  EXPECT_EQ(c.family, ModelFamily::kLlama);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.layer_windows, (std::vector<int>{0, 0, 0}));
  const attention::AttentionSpec s = AttentionSpecForLayer(c, 0);
  EXPECT_EQ(s.mask, attention::MaskKind::kCausal);
  EXPECT_EQ(s.rope_layout, attention::RopeLayout::kRotateHalf);
  EXPECT_TRUE(attention::ValidateSpec(s).ok());

  const ModelConfig q = MustParse(kQwen2);
  EXPECT_TRUE(q.qkv_bias);
  EXPECT_FALSE(q.o_bias);
  EXPECT_EQ(q.layer_windows, (std::vector<int>{0, 0}));  // use_sliding_window false
  const ModelConfig qs = MustParse(
      R"({"model_type": "qwen2", "hidden_size": 16, "num_hidden_layers": 3,
          "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 23,
          "sliding_window": 5, "use_sliding_window": true, "max_window_layers": 1})");
  EXPECT_EQ(qs.layer_windows, (std::vector<int>{0, 5, 5}));

  const ModelConfig m = MustParse(kMistral);
  EXPECT_EQ(m.layer_windows, (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(AttentionSpecForLayer(m, 1).mask, attention::MaskKind::kSliding);
  const ModelConfig m_null = MustParse(
      R"({"model_type": "mistral", "hidden_size": 16, "num_hidden_layers": 1,
          "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 23,
          "sliding_window": null})");
  EXPECT_EQ(m_null.layer_windows, (std::vector<int>{0}));

  const ModelConfig g = MustParse(kGpt2);
  EXPECT_EQ(g.family, ModelFamily::kGpt2);
  EXPECT_EQ(g.intermediate_size, 64);
  EXPECT_TRUE(g.tie_word_embeddings);
  EXPECT_EQ(g.rope_theta, 0.0f);
}

TEST(ModelConfigTest, ErrorsNameTheKey) {
  ExpectConfigError(R"({"model_type": "mixtral", "hidden_size": 8})",
                    "model_type 'mixtral' is not supported (supported: llama, mistral, qwen2, "
                    "gpt2, gpt_oss, sinkscope)");
  ExpectConfigError(R"({"hidden_size": 8})", "model_type");
  // sinkscope (train/): the variant and its parameters.
  const std::string tiny = R"("model_type": "sinkscope", "hidden_size": 8, "num_hidden_layers": 1,
      "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 10)";
  ExpectConfigError("{" + tiny + R"(, "attention_variant": "softplus"})", "'attention_variant'");
  ExpectConfigError("{" + tiny + R"(, "attention_variant": "clipped_softmax", "clip_zeta": 0.5})",
                    "'clip_zeta' must be >= 1");
  ExpectConfigError("{" + tiny + R"(, "attention_variant": "clipped_softmax", "clip_gamma": 0.1})",
                    "'clip_gamma' must be <= 0");
  ExpectConfigError("{" + tiny + R"(, "attention_variant": "sink_tokens", "num_sink_tokens": 0})",
                    "'num_sink_tokens'");
  {
    absl::StatusOr<ModelConfig> ok = ParseModelConfig(
        "{" + tiny + R"(, "attention_variant": "kv_bias", "sliding_window": 3,
        "layer_types": ["sliding_attention"]})");
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->attention_variant, attention::Variant::kKvBias);
    EXPECT_EQ(AttentionSpecForLayer(*ok, 0).variant, attention::Variant::kKvBias);
    EXPECT_EQ(AttentionSpecForLayer(*ok, 0).window, 3);
  }
  ExpectConfigError(R"({"model_type": "llama", "num_hidden_layers": 2, "num_attention_heads": 4,
                        "intermediate_size": 24, "vocab_size": 29})",
                    "'hidden_size' is missing");
  ExpectConfigError(R"({"model_type": "llama", "hidden_size": "16", "num_hidden_layers": 2,
                        "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29})",
                    "'hidden_size' must be an integer");
  ExpectConfigError(R"({"model_type": "llama", "hidden_size": 18, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29})",
                    "num_attention_heads");
  ExpectConfigError(R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "num_key_value_heads": 3,
                        "intermediate_size": 24, "vocab_size": 29})",
                    "num_key_value_heads");
  ExpectConfigError(R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29,
                        "hidden_act": "gelu"})",
                    "hidden_act");
  ExpectConfigError(R"({"model_type": "mistral", "hidden_size": 16, "num_hidden_layers": 2,
                        "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29,
                        "sliding_window": 0})",
                    "sliding_window");
  ExpectConfigError(R"({"model_type": "gpt2", "n_layer": 2, "n_head": 4, "n_positions": 8,
                        "vocab_size": 10})",
                    "'n_embd' is missing");
  ExpectConfigError(R"({"model_type": "gpt2", "n_embd": 16, "n_layer": 2, "n_head": 4,
                        "n_positions": 8, "vocab_size": 10, "activation_function": "relu"})",
                    "activation_function");
  ExpectConfigError(R"({"model_type": "gpt2", "n_embd": 18, "n_layer": 2, "n_head": 4,
                        "n_positions": 8, "vocab_size": 10})",
                    "n_head");
  ExpectConfigError("[1, 2]", "object");
  ExpectConfigError("{", "config.json");
}

// ---------------------------------------------------------------- rope_scaling

std::string LlamaWith(const std::string& rope_keys) {
  return absl::StrCat(R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29,
      "max_position_embeddings": 131072, "rope_theta": 500000.0, )",
                      rope_keys, "}");
}

TEST(ModelConfigTest, RopeScalingTypesAndDefaults) {
  using attention::RopeScalingType;
  // Llama 3.1's released rope_scaling.
  const ModelConfig l = MustParse(LlamaWith(R"("rope_scaling": {"factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192,
      "rope_type": "llama3"})"));
  EXPECT_EQ(l.rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_EQ(l.rope_scaling.factor, 8.0);
  EXPECT_EQ(l.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(l.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(l.rope_scaling.original_max_position_embeddings, 8192);
  const attention::AttentionSpec s = AttentionSpecForLayer(l, 1);
  EXPECT_EQ(s.rope_scaling, l.rope_scaling);
  EXPECT_TRUE(attention::ValidateSpec(s).ok()) << attention::ValidateSpec(s);
  EXPECT_NE(l.ToString().find("rope_scaling=llama3(factor 8"), std::string::npos) << l.ToString();

  // Legacy "type"; "default" and null are no scaling.
  const ModelConfig lin =
      MustParse(LlamaWith(R"("rope_scaling": {"type": "linear", "factor": 2})"));
  EXPECT_EQ(lin.rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_EQ(lin.rope_scaling.factor, 2.0);
  EXPECT_TRUE(
      MustParse(LlamaWith(R"("rope_scaling": {"rope_type": "default"})")).rope_scaling.is_none());
  EXPECT_TRUE(MustParse(LlamaWith(R"("rope_scaling": null)")).rope_scaling.is_none());

  // yarn defaults: beta 32 / 1, truncate true, L = max_position_embeddings, derived attention
  // factor.
  const ModelConfig y =
      MustParse(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4})"));
  EXPECT_EQ(y.rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(y.rope_scaling.factor, 4.0);
  EXPECT_EQ(y.rope_scaling.beta_fast, 32.0);
  EXPECT_EQ(y.rope_scaling.beta_slow, 1.0);
  EXPECT_TRUE(y.rope_scaling.truncate);
  EXPECT_EQ(y.rope_scaling.original_max_position_embeddings, 131072);
  EXPECT_EQ(y.rope_scaling.attention_factor, 0.0);
  // factor absent: max_position_embeddings / original_max_position_embeddings.
  const ModelConfig yr = MustParse(LlamaWith(
      R"("rope_scaling": {"rope_type": "yarn", "original_max_position_embeddings": 32768})"));
  EXPECT_EQ(yr.rope_scaling.factor, 4.0);
  // attention_factor, mscale, mscale_all_dim, truncate read as given.
  const ModelConfig ym = MustParse(LlamaWith(R"("rope_scaling": {"rope_type": "yarn",
      "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707, "attention_factor": 1.1,
      "truncate": false, "beta_fast": 16, "beta_slow": 2})"));
  EXPECT_EQ(ym.rope_scaling.attention_factor, 1.1);
  EXPECT_EQ(ym.rope_scaling.mscale, 0.707);
  EXPECT_EQ(ym.rope_scaling.mscale_all_dim, 0.707);
  EXPECT_FALSE(ym.rope_scaling.truncate);
  EXPECT_EQ(ym.rope_scaling.beta_fast, 16.0);
  EXPECT_EQ(ym.rope_scaling.beta_slow, 2.0);

  // Newer transformers: rope_parameters carries the type, theta and the scaling keys.
  const ModelConfig p = MustParse(R"({"model_type": "mistral", "hidden_size": 16,
      "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 23,
      "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 8.0,
      "original_max_position_embeddings": 4096}})");
  EXPECT_EQ(p.rope_theta, 1000000.0f);
  EXPECT_EQ(p.rope_scaling.type, RopeScalingType::kYarn);
  EXPECT_EQ(p.rope_scaling.original_max_position_embeddings, 4096);
  // Both keys: fine when they agree.
  const ModelConfig both = MustParse(LlamaWith(R"("rope_scaling": {"rope_type": "linear",
      "factor": 2}, "rope_parameters": {"rope_type": "linear", "factor": 2.0,
      "rope_theta": 500000.0})"));
  EXPECT_EQ(both.rope_scaling.type, RopeScalingType::kLinear);
}

TEST(ModelConfigTest, RopeScalingErrorsNameTheKey) {
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "dynamic", "factor": 2.0})"),
                    "key 'rope_scaling.rope_type' is 'dynamic', which is not supported "
                    "(supported: default, linear, yarn, llama3)");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"type": "longrope", "factor": 2.0})"),
                    "key 'rope_scaling.type' is 'longrope'");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"factor": 2.0})"),
                    "key 'rope_scaling' has no 'rope_type' (or legacy 'type')");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": 3})"),
                    "'rope_scaling.rope_type' must be a string");
  ExpectConfigError(LlamaWith(R"("rope_scaling": "yarn")"), "'rope_scaling' must be an object");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0})"),
                    "'rope_scaling.low_freq_factor' is missing (required)");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 4.0, "high_freq_factor": 1.0, "original_max_position_embeddings": 8192})"),
                    "'rope_scaling' rope scaling llama3: needs 0 < low_freq_factor < "
                    "high_freq_factor, got 4 and 1");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0})"),
                    "'rope_scaling.original_max_position_embeddings' is missing");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "linear"})"),
                    "'rope_scaling.factor' is missing (required)");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "linear", "factor": 0.5})"),
                    "'rope_scaling' rope scaling linear: factor must be finite and >= 1, got 0.5");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn"})"),
                    "'rope_scaling.factor' is missing (required)");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4,
      "beta_fast": "32"})"),
                    "'rope_scaling.beta_fast' must be a number, got string");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4,
      "beta_fast": 1, "beta_slow": 32})"),
                    "beta_fast (1) must be >= beta_slow (32)");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4,
      "truncate": "no"})"),
                    "'rope_scaling.truncate' must be a boolean");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4,
      "mscale": -1})"),
                    "'rope_scaling.mscale' must be a number >= 0, got -1");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "yarn", "factor": 4,
      "original_max_position_embeddings": 0})"),
                    "'rope_scaling.original_max_position_embeddings' must be a positive integer");
  ExpectConfigError(LlamaWith(R"("rope_scaling": {"rope_type": "linear", "factor": 2},
      "rope_parameters": {"rope_type": "linear", "factor": 4, "rope_theta": 500000.0})"),
                    "key 'rope_parameters' (linear(factor 4)) disagrees with 'rope_scaling' "
                    "(linear(factor 2))");
  ExpectConfigError(R"({"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": 29, "rope_theta": 1.0,
      "rope_scaling": {"rope_type": "yarn", "factor": 4}})",
                    "key 'rope_theta' must be > 1 for yarn RoPE scaling, got 1");
}

}  // namespace
}  // namespace sinkscope::model
