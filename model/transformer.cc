#include "model/transformer.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "attention/reference_attention.h"
#include "quant/sgemm.h"

namespace sinkscope::model {

// One layer widened to float (built when the layer runs, dropped after it).
struct TransformerLayer::Floats {
  using FloatVector = Eigen::VectorXf;
  attention::AttentionWeights attn;
  FloatVector norm1_w, norm1_b, norm2_w, norm2_b;
  FloatMatrix gate_w, up_w, down_w;  // llama, nn.Linear layout [out, in]
  FloatMatrix fc_w, proj_w;          // gpt2, Conv1D layout [in, out]
  FloatVector fc_b, proj_b;
};

namespace {

using FloatVector = Eigen::VectorXf;

bool IsFloating(DType d) {
  return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16 || d == DType::kF64;
}

// count elements of v starting at element `begin`, widened to float.
void ReadFloats(const TypedTensorView& v, int64_t begin, int64_t count, float* out) {
  switch (v.dtype) {
    case DType::kF32:
      std::memcpy(out, v.data + begin * 4, count * 4);  // mapped data may be unaligned
      return;
    case DType::kBF16: {
      const uint8_t* src = v.data + begin * 2;
      int64_t i = 0;
#ifdef __SSE2__
      // BF16 is the high half of a float: interleave zeros below 8 values at a time.
      const __m128i zero = _mm_setzero_si128();
      for (; i + 8 <= count; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
        _mm_storeu_ps(out + i, _mm_castsi128_ps(_mm_unpacklo_epi16(zero, h)));
        _mm_storeu_ps(out + i + 4, _mm_castsi128_ps(_mm_unpackhi_epi16(zero, h)));
      }
#endif
      for (; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = Bf16ToFloat(h);
      }
      return;
    }
    case DType::kF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, v.data + (begin + i) * 2, 2);
        out[i] = HalfToFloat(h);
      }
      return;
    default:
      for (int64_t i = 0; i < count; ++i) {
        out[i] = static_cast<float>(LoadAsDouble(v.data, v.dtype, begin + i));
      }
  }
}

// fn(begin, end) over [0, n) in `threads` contiguous ranges, the calling thread taking the
// first: the forward's elementwise passes use the threads its products do (SgemmThreads).
void ParallelRanges(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t k = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  if (k == 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t i = 1; i < k; ++i) pool.emplace_back(fn, n * i / k, n * (i + 1) / k);
  fn(0, n / k);
  for (std::thread& t : pool) t.join();
}

// ReadFloats split over SgemmThreads() threads when it is large (widening is memory-bound, but
// one thread does not saturate the memory system).
void ReadFloatsParallel(const TypedTensorView& v, int64_t begin, int64_t count, float* out) {
  constexpr int64_t kMinPerThread = int64_t{1} << 20;
  const int threads = static_cast<int>(
      std::min<int64_t>(quant::SgemmThreads(), std::max<int64_t>(1, count / kMinPerThread)));
  ParallelRanges(count, threads, [&](int64_t b, int64_t e) {
    ReadFloats(v, begin + b, e - b, out + b);
  });
}

// Rows [row0, row0 + rows) of a 2-D view (or the whole view as `rows` x `cols`).
FloatMatrix ReadRows(const TypedTensorView& v, int64_t row0, int64_t rows, int64_t cols) {
  FloatMatrix m(rows, cols);
  ReadFloats(v, row0 * cols, rows * cols, m.data());
  return m;
}

FloatMatrix ToMatrix(const TypedTensorView& v) { return ReadRows(v, 0, v.shape[0], v.shape[1]); }

// ToMatrix into *m, reusing its storage when the shape is the same (no fresh pages to fault in).
void ReadMatrixInto(const TypedTensorView& v, FloatMatrix* m) {
  m->resize(v.shape[0], v.shape[1]);
  ReadFloatsParallel(v, 0, m->size(), m->data());
}

FloatVector ToVector(const TypedTensorView& v) {
  if (v.data == nullptr) return FloatVector();
  FloatVector x(v.size());
  ReadFloats(v, 0, v.size(), x.data());
  return x;
}

// Finds tensors and checks their shapes; keeps the first error.
class Fetcher {
 public:
  explicit Fetcher(const TensorSource& source) : source_(source) {}

  TypedTensorView Required(const std::string& name, const std::vector<int64_t>& shape) {
    if (!status_.ok()) return {};
    absl::StatusOr<TypedTensorView> v = source_(name);
    if (!v.ok()) {
      status_ = absl::IsNotFound(v.status())
                    ? absl::NotFoundError(absl::StrCat("checkpoint: missing tensor '", name, "'"))
                    : v.status();
      return {};
    }
    if (v->shape != shape) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("checkpoint: tensor '", name, "' has shape [", absl::StrJoin(v->shape, ", "),
                       "], expected [", absl::StrJoin(shape, ", "), "]"));
      return {};
    }
    if (!IsFloating(v->dtype)) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          "checkpoint: tensor '", name, "' has dtype ", DTypeName(v->dtype),
          ", expected a floating dtype (F32, F16, BF16, F64)"));
      return {};
    }
    if (v->data == nullptr && v->size() > 0) {
      status_ = absl::InvalidArgumentError(absl::StrCat("checkpoint: tensor '", name,
                                                        "' has no data"));
      return {};
    }
    return *v;
  }

  // A U8 tensor of exactly this shape (MXFP4 blocks and scales).
  TypedTensorView RequiredU8(const std::string& name, const std::vector<int64_t>& shape) {
    if (!status_.ok()) return {};
    absl::StatusOr<TypedTensorView> v = source_(name);
    if (!v.ok()) {
      status_ = absl::IsNotFound(v.status())
                    ? absl::NotFoundError(absl::StrCat("checkpoint: missing tensor '", name, "'"))
                    : v.status();
      return {};
    }
    if (v->shape != shape || v->dtype != DType::kU8 || (v->data == nullptr && v->size() > 0)) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          "checkpoint: tensor '", name, "' has dtype ", DTypeName(v->dtype), " shape [",
          absl::StrJoin(v->shape, ", "), "], expected U8 [", absl::StrJoin(shape, ", "), "]"));
      return {};
    }
    return *v;
  }

  bool Exists(const std::string& name) {
    if (!status_.ok()) return false;
    absl::StatusOr<TypedTensorView> v = source_(name);
    if (v.ok()) return true;
    if (!absl::IsNotFound(v.status())) status_ = v.status();
    return false;
  }

  const absl::Status& status() const { return status_; }

 private:
  const TensorSource& source_;
  absl::Status status_;
};

using LayerFloats = TransformerLayer::Floats;

FloatMatrix Norm(const FloatMatrix& x, NormKind kind, double eps, const FloatVector& w,
                 const FloatVector& b) {
  FloatMatrix y(x.rows(), x.cols());
  const int64_t n = x.cols();
  for (int64_t r = 0; r < x.rows(); ++r) {
    const float* in = x.data() + r * n;
    float* out = y.data() + r * n;
    double mean = 0.0, sq = 0.0;
    if (kind == NormKind::kLayerNorm) {
      for (int64_t i = 0; i < n; ++i) mean += in[i];
      mean /= static_cast<double>(n);
    }
    for (int64_t i = 0; i < n; ++i) sq += (in[i] - mean) * (in[i] - mean);
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<float>((in[i] - mean) * inv) * w[i] + (b.size() > 0 ? b[i] : 0.0f);
    }
  }
  return y;
}

float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

// Expert e's [rows x cols] matrix of a 3-D view [E, rows, cols], widened.
FloatMatrix ExpertMatrix(const TypedTensorView& v, int64_t e) {
  return ReadRows(v, e * v.shape[1], v.shape[1], v.shape[2]);
}

// Expert e of MXFP4 blocks [E, rows, G, 16] (two E2M1 values a byte, low nibble first) with
// E8M0 scales [E, rows, G] (2^(s - 127)), decoded to [rows, G * 32] and returned transposed,
// [G * 32, rows]: the layout of the dequantized tensor ([in, out]).
FloatMatrix Mxfp4ExpertMatrix(const TypedTensorView& blocks, const TypedTensorView& scales,
                              int64_t e) {
  static constexpr float kFp4[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  const int64_t rows = blocks.shape[1], groups = blocks.shape[2];
  FloatMatrix w(groups * 32, rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t idx = (e * rows + r) * groups + g;
      const float scale = std::ldexp(1.0f, static_cast<int>(scales.data[idx]) - 127);
      const uint8_t* b = blocks.data + idx * 16;
      for (int64_t j = 0; j < 16; ++j) {
        for (int n = 0; n < 2; ++n) {
          const int nib = n == 0 ? (b[j] & 0xF) : (b[j] >> 4);
          const float v = kFp4[nib & 7] * scale;
          w(g * 32 + 2 * j + n, r) = (nib & 8) != 0 ? -v : v;
        }
      }
    }
  }
  return w;
}

FloatVector ExpertVector(const TypedTensorView& v, int64_t e) {
  FloatVector x(v.shape[1]);
  ReadFloats(v, e * v.shape[1], v.shape[1], x.data());
  return x;
}

absl::StatusOr<FloatMatrix> Fp32Linear(MlpLinear, int, const FloatMatrix& x, const FloatMatrix& w,
                                       bool w_in_out) {
  return quant::Sgemm(x, w, /*transpose_b=*/!w_in_out);
}

absl::StatusOr<FloatMatrix> Mlp(const ModelConfig& c, const LayerFloats& w, const FloatMatrix& x,
                                const LinearFn& linear) {
  if (c.mlp == MlpKind::kSwiGlu) {
    absl::StatusOr<FloatMatrix> gate = linear(MlpLinear::kGate, -1, x, w.gate_w, false);
    if (!gate.ok()) return gate.status();
    absl::StatusOr<FloatMatrix> up = linear(MlpLinear::kUp, -1, x, w.up_w, false);
    if (!up.ok()) return up.status();
    // silu(g) * up, with Eigen's vectorised exp.
    const FloatMatrix act =
        (gate->array() / (1.0f + (-gate->array()).exp()) * up->array()).matrix();
    return linear(MlpLinear::kDown, -1, act, w.down_w, false);
  }
  absl::StatusOr<FloatMatrix> f = linear(MlpLinear::kFc, -1, x, w.fc_w, true);
  if (!f.ok()) return f.status();
  f->rowwise() += w.fc_b.transpose();
  const FloatMatrix act = f->unaryExpr(&GeluTanh);
  absl::StatusOr<FloatMatrix> y = linear(MlpLinear::kProj, -1, act, w.proj_w, true);
  if (!y.ok()) return y.status();
  y->rowwise() += w.proj_b.transpose();
  return y;
}

// gpt_oss mixture of experts (transformer.h): routing on all tokens, then each selected expert
// widened once and run on its tokens.
// gate_up_s / down_s non-null: gate_up_w / down_w are MXFP4 blocks.
absl::StatusOr<FloatMatrix> MoeMlp(const ModelConfig& c, const TypedTensorView& router_w,
                                   const TypedTensorView& router_b,
                                   const TypedTensorView& gate_up_w,
                                   const TypedTensorView& gate_up_s,
                                   const TypedTensorView& gate_up_b,
                                   const TypedTensorView& down_w, const TypedTensorView& down_s,
                                   const TypedTensorView& down_b, const FloatMatrix& x,
                                   const LinearFn& linear) {
  const int64_t T = x.rows();
  const int E = c.num_experts, K = c.experts_per_token;
  const int64_t ffn = c.intermediate_size;
  FloatMatrix logits = x * ToMatrix(router_w).transpose();
  logits.rowwise() += ToVector(router_b).transpose();
  // Per expert: (token, weight) pairs.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(E);
  std::vector<int> order(E);
  for (int64_t t = 0; t < T; ++t) {
    for (int e = 0; e < E; ++e) order[e] = e;
    std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int a, int b) {
      const float la = logits(t, a), lb = logits(t, b);
      return la > lb || (la == lb && a < b);
    });
    const double m = logits(t, order[0]);
    double sum = 0.0;
    for (int j = 0; j < K; ++j) sum += std::exp(static_cast<double>(logits(t, order[j])) - m);
    for (int j = 0; j < K; ++j) {
      const double p = std::exp(static_cast<double>(logits(t, order[j])) - m) / sum;
      routed[order[j]].emplace_back(t, static_cast<float>(p));
    }
  }
  FloatMatrix y = FloatMatrix::Zero(T, x.cols());
  const float limit = c.swiglu_limit, alpha = c.swiglu_alpha;
  for (int e = 0; e < E; ++e) {
    const auto& tokens = routed[e];
    if (tokens.empty()) continue;
    const int64_t n = static_cast<int64_t>(tokens.size());
    FloatMatrix xe(n, x.cols());
    for (int64_t i = 0; i < n; ++i) xe.row(i) = x.row(tokens[i].first);
    absl::StatusOr<FloatMatrix> gu = linear(
        MlpLinear::kExpertGateUp, e, xe,
        gate_up_s.data != nullptr ? Mxfp4ExpertMatrix(gate_up_w, gate_up_s, e)
                                  : ExpertMatrix(gate_up_w, e),
        true);  // [n, 2 ffn]
    if (!gu.ok()) return gu.status();
    gu->rowwise() += ExpertVector(gate_up_b, e).transpose();
    FloatMatrix act(n, ffn);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < ffn; ++j) {
        const float g = std::min((*gu)(i, 2 * j), limit);
        const float u = std::clamp((*gu)(i, 2 * j + 1), -limit, limit);
        act(i, j) = (u + 1.0f) * (g / (1.0f + std::exp(-alpha * g)));
      }
    }
    absl::StatusOr<FloatMatrix> out = linear(
        MlpLinear::kExpertDown, e, act,
        down_s.data != nullptr ? Mxfp4ExpertMatrix(down_w, down_s, e) : ExpertMatrix(down_w, e),
        true);  // [n, d]
    if (!out.ok()) return out.status();
    out->rowwise() += ExpertVector(down_b, e).transpose();
    for (int64_t i = 0; i < n; ++i) y.row(tokens[i].first) += tokens[i].second * out->row(i);
  }
  return y;
}

}  // namespace

absl::StatusOr<Transformer> Transformer::Create(const ModelConfig& config, TensorSource source) {
  if (!source) return absl::InvalidArgumentError("Transformer: no tensor source");
  if (static_cast<int>(config.layer_windows.size()) != config.num_layers) {
    return absl::InvalidArgumentError("Transformer: config.layer_windows must have num_layers entries");
  }
  Transformer t;
  t.config_ = config;
  Fetcher f(source);
  const int64_t d = config.hidden_size, v = config.vocab_size, ffn = config.intermediate_size;
  const int64_t q_dim = static_cast<int64_t>(config.num_heads) * config.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(config.num_kv_heads) * config.head_dim;
  t.layers_.resize(config.num_layers);

  if (config.family == ModelFamily::kLlama || config.family == ModelFamily::kGptOss) {
    const bool oss = config.family == ModelFamily::kGptOss;
    const int64_t E = config.num_experts;
    if (oss && (config.mlp != MlpKind::kMoeClampedSwiGlu || config.num_experts <= 0 ||
                config.experts_per_token <= 0 || config.experts_per_token > config.num_experts ||
                !(config.swiglu_limit > 0.0f) || !(config.swiglu_alpha > 0.0f))) {
      return absl::InvalidArgumentError(
          "Transformer: gpt_oss needs the MoE MLP with 0 < experts_per_token <= num_experts and "
          "positive swiglu_limit / swiglu_alpha");
    }
    t.embed_ = f.Required("model.embed_tokens.weight", {v, d});
    for (int l = 0; l < config.num_layers; ++l) {
      const std::string p = absl::StrCat("model.layers.", l, ".");
      LayerViews& L = t.layers_[l];
      L.norm1_w = f.Required(p + "input_layernorm.weight", {d});
      L.norm2_w = f.Required(p + "post_attention_layernorm.weight", {d});
      L.q_w = f.Required(p + "self_attn.q_proj.weight", {q_dim, d});
      L.k_w = f.Required(p + "self_attn.k_proj.weight", {kv_dim, d});
      L.v_w = f.Required(p + "self_attn.v_proj.weight", {kv_dim, d});
      L.o_w = f.Required(p + "self_attn.o_proj.weight", {d, q_dim});
      if (config.qkv_bias) {
        L.q_b = f.Required(p + "self_attn.q_proj.bias", {q_dim});
        L.k_b = f.Required(p + "self_attn.k_proj.bias", {kv_dim});
        L.v_b = f.Required(p + "self_attn.v_proj.bias", {kv_dim});
      }
      if (config.o_bias) L.o_b = f.Required(p + "self_attn.o_proj.bias", {d});
      if (config.attention_sinks) {
        L.sinks = f.Required(p + "self_attn.sinks", {config.num_heads});
      }
      const int64_t kvh = config.num_kv_heads, hd = config.head_dim;
      switch (config.attention_variant) {
        case attention::Variant::kKvBias:
          L.kv_k = f.Required(p + "self_attn.k_bias", {kvh, hd});
          L.kv_v = f.Required(p + "self_attn.v_bias", {kvh, hd});
          break;
        case attention::Variant::kSinkTokens:
          L.sink_tokens = f.Required(p + "self_attn.sink_tokens", {config.num_sink_tokens, d});
          break;
        case attention::Variant::kGated:
          L.gate_w_attn = f.Required(p + "self_attn.gate_proj.weight", {config.num_heads, d});
          L.gate_b_attn = f.Required(p + "self_attn.gate_proj.bias", {config.num_heads});
          break;
        default:
          break;
      }
      if (!oss) {
        L.gate_w = f.Required(p + "mlp.gate_proj.weight", {ffn, d});
        L.up_w = f.Required(p + "mlp.up_proj.weight", {ffn, d});
        L.down_w = f.Required(p + "mlp.down_proj.weight", {d, ffn});
        continue;
      }
      const std::string x = p + "mlp.experts.";
      L.router_w = f.Required(p + "mlp.router.weight", {E, d});
      L.router_b = f.Required(p + "mlp.router.bias", {E});
      if (!f.Exists(x + "gate_up_proj") && f.Exists(x + "gate_up_proj_blocks")) {
        // MXFP4: [E, out, in / 32, 16] blocks, [E, out, in / 32] scales.
        if (d % 32 != 0 || ffn % 32 != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "checkpoint: '", x, "gate_up_proj_blocks' (MXFP4) needs hidden_size and "
              "intermediate_size divisible by 32 (", d, ", ", ffn, ")"));
        }
        L.gate_up_w = f.RequiredU8(x + "gate_up_proj_blocks", {E, 2 * ffn, d / 32, 16});
        L.gate_up_s = f.RequiredU8(x + "gate_up_proj_scales", {E, 2 * ffn, d / 32});
        L.experts_down_w = f.RequiredU8(x + "down_proj_blocks", {E, d, ffn / 32, 16});
        L.experts_down_s = f.RequiredU8(x + "down_proj_scales", {E, d, ffn / 32});
      } else {
        L.gate_up_w = f.Required(x + "gate_up_proj", {E, d, 2 * ffn});
        L.experts_down_w = f.Required(x + "down_proj", {E, ffn, d});
      }
      L.gate_up_b = f.Required(x + "gate_up_proj_bias", {E, 2 * ffn});
      L.experts_down_b = f.Required(x + "down_proj_bias", {E, d});
    }
    t.final_norm_w_ = f.Required("model.norm.weight", {d});
  } else {
    const std::string root = f.Exists("transformer.wte.weight") ? "transformer." : "";
    t.embed_ = f.Required(root + "wte.weight", {v, d});
    t.positions_ = f.Required(root + "wpe.weight", {config.max_position_embeddings, d});
    for (int l = 0; l < config.num_layers; ++l) {
      const std::string p = absl::StrCat(root, "h.", l, ".");
      LayerViews& L = t.layers_[l];
      L.norm1_w = f.Required(p + "ln_1.weight", {d});
      L.norm1_b = f.Required(p + "ln_1.bias", {d});
      L.qkv_w = f.Required(p + "attn.c_attn.weight", {d, 3 * d});
      L.qkv_b = f.Required(p + "attn.c_attn.bias", {3 * d});
      L.o_w = f.Required(p + "attn.c_proj.weight", {d, d});
      L.o_b = f.Required(p + "attn.c_proj.bias", {d});
      L.norm2_w = f.Required(p + "ln_2.weight", {d});
      L.norm2_b = f.Required(p + "ln_2.bias", {d});
      L.fc_w = f.Required(p + "mlp.c_fc.weight", {d, ffn});
      L.fc_b = f.Required(p + "mlp.c_fc.bias", {ffn});
      L.proj_w = f.Required(p + "mlp.c_proj.weight", {ffn, d});
      L.proj_b = f.Required(p + "mlp.c_proj.bias", {d});
    }
    t.final_norm_w_ = f.Required(root + "ln_f.weight", {d});
    t.final_norm_b_ = f.Required(root + "ln_f.bias", {d});
  }
  t.lm_head_ = config.tie_word_embeddings ? t.embed_ : f.Required("lm_head.weight", {v, d});
  if (!f.status().ok()) {
    return absl::Status(f.status().code(),
                        absl::StrCat(f.status().message(), " (model_type ", config.model_type, ")"));
  }
  return t;
}

absl::StatusOr<FloatMatrix> Transformer::Embed(const std::vector<int32_t>& ids) const {
  const ModelConfig& c = config_;
  const int64_t T = static_cast<int64_t>(ids.size());
  const int64_t d = c.hidden_size;
  if (T == 0) return absl::InvalidArgumentError("Forward: no tokens");
  for (int64_t t = 0; t < T; ++t) {
    if (ids[t] < 0 || ids[t] >= c.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("Forward: token id ", ids[t], " at position ",
                                                     t, " is outside [0, vocab_size ",
                                                     c.vocab_size, ")"));
    }
  }
  if (c.family == ModelFamily::kGpt2 && T > c.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("Forward: ", T, " tokens exceed n_positions ",
                                                   c.max_position_embeddings));
  }

  // Embeddings: only the tokens' rows are widened.
  FloatMatrix h(T, d);
  for (int64_t t = 0; t < T; ++t) {
    ReadFloats(embed_, static_cast<int64_t>(ids[t]) * d, d, h.data() + t * d);
    if (c.family == ModelFamily::kGpt2) h.row(t) += ReadRows(positions_, t, 1, d);
  }
  return h;
}

absl::StatusOr<TransformerLayer> Transformer::Layer(int l) const { return Layer(l, nullptr); }

absl::StatusOr<TransformerLayer> Transformer::Layer(int l,
                                                    std::shared_ptr<LayerFloats> storage) const {
  const ModelConfig& c = config_;
  const int64_t d = c.hidden_size;
  if (l < 0 || l >= c.num_layers) {
    return absl::InvalidArgumentError(absl::StrCat("layer ", l, " outside [0, ", c.num_layers, ")"));
  }
  const LayerViews& V = layers_[l];
  std::shared_ptr<LayerFloats> floats =
      storage != nullptr ? std::move(storage) : std::make_shared<LayerFloats>();
  LayerFloats& w = *floats;
  w.norm1_w = ToVector(V.norm1_w);
  w.norm1_b = ToVector(V.norm1_b);
  w.norm2_w = ToVector(V.norm2_w);
  w.norm2_b = ToVector(V.norm2_b);
  if (c.family == ModelFamily::kLlama || c.family == ModelFamily::kGptOss) {
    w.attn.wq = ToMatrix(V.q_w);
    w.attn.wk = ToMatrix(V.k_w);
    w.attn.wv = ToMatrix(V.v_w);
    w.attn.wo = ToMatrix(V.o_w);
    w.attn.bq = ToVector(V.q_b);
    w.attn.bk = ToVector(V.k_b);
    w.attn.bv = ToVector(V.v_b);
    w.attn.bo = ToVector(V.o_b);
    w.attn.sinks = ToVector(V.sinks);
    if (V.kv_k.data != nullptr) {
      w.attn.k_bias = ToMatrix(V.kv_k);
      w.attn.v_bias = ToMatrix(V.kv_v);
    }
    if (V.sink_tokens.data != nullptr) w.attn.sink_tokens = ToMatrix(V.sink_tokens);
    if (V.gate_w_attn.data != nullptr) {
      w.attn.gate_w = ToMatrix(V.gate_w_attn);
      w.attn.gate_b = ToVector(V.gate_b_attn);
    }
    if (c.mlp == MlpKind::kSwiGlu) {
      ReadMatrixInto(V.gate_w, &w.gate_w);
      ReadMatrixInto(V.up_w, &w.up_w);
      ReadMatrixInto(V.down_w, &w.down_w);
    }
  } else {
    // Conv1D [in, out]: y = x W + b; nn.Linear wants W^T.
    const FloatMatrix qkv = ToMatrix(V.qkv_w);
    const FloatVector qkv_b = ToVector(V.qkv_b);
    w.attn.wq = qkv.middleCols(0, d).transpose();
    w.attn.wk = qkv.middleCols(d, d).transpose();
    w.attn.wv = qkv.middleCols(2 * d, d).transpose();
    w.attn.bq = qkv_b.segment(0, d);
    w.attn.bk = qkv_b.segment(d, d);
    w.attn.bv = qkv_b.segment(2 * d, d);
    w.attn.wo = ToMatrix(V.o_w).transpose();
    w.attn.bo = ToVector(V.o_b);
    ReadMatrixInto(V.fc_w, &w.fc_w);
    w.fc_b = ToVector(V.fc_b);
    ReadMatrixInto(V.proj_w, &w.proj_w);
    w.proj_b = ToVector(V.proj_b);
  }
  absl::StatusOr<attention::ReferenceAttention> attn =
      attention::ReferenceAttention::Create(AttentionSpecForLayer(c, l), std::move(w.attn));
  if (!attn.ok()) {
    return absl::Status(attn.status().code(),
                        absl::StrCat("layer ", l, ": ", attn.status().message()));
  }
  w.attn = attention::AttentionWeights();
  TransformerLayer layer;
  layer.model_ = this;
  layer.layer_ = l;
  layer.floats_ = std::move(floats);
  layer.attention_ = std::make_shared<const attention::ReferenceAttention>(*std::move(attn));
  return layer;
}

FloatMatrix TransformerLayer::AttentionInput(const FloatMatrix& h) const {
  const ModelConfig& c = model_->config_;
  return Norm(h, c.norm, c.norm_eps, floats_->norm1_w, floats_->norm1_b);
}

FloatMatrix TransformerLayer::MlpInput(const FloatMatrix& m) const {
  const ModelConfig& c = model_->config_;
  return Norm(m, c.norm, c.norm_eps, floats_->norm2_w, floats_->norm2_b);
}

FloatMatrix TransformerLayer::Mlp(const FloatMatrix& x) const {
  // The fp32 product never fails.
  return *Mlp(x, LinearFn(&Fp32Linear));
}

absl::StatusOr<FloatMatrix> TransformerLayer::Mlp(const FloatMatrix& x,
                                                  const LinearFn& linear) const {
  const ModelConfig& c = model_->config_;
  if (c.mlp != MlpKind::kMoeClampedSwiGlu) return model::Mlp(c, *floats_, x, linear);
  const Transformer::LayerViews& V = model_->layers_[layer_];
  return MoeMlp(c, V.router_w, V.router_b, V.gate_up_w, V.gate_up_s, V.gate_up_b,
                V.experts_down_w, V.experts_down_s, V.experts_down_b, x, linear);
}

const Eigen::VectorXf& TransformerLayer::norm1_weight() const { return floats_->norm1_w; }
const Eigen::VectorXf& TransformerLayer::norm2_weight() const { return floats_->norm2_w; }

std::vector<FloatMatrix> TransformerLayer::MlpInputWeights() const {
  const ModelConfig& c = model_->config_;
  if (c.mlp == MlpKind::kSwiGlu) return {floats_->gate_w, floats_->up_w};
  if (c.mlp == MlpKind::kMoeClampedSwiGlu) return {};
  return {floats_->fc_w.transpose()};
}

const char* MlpLinearName(MlpLinear which) {
  switch (which) {
    case MlpLinear::kGate:
      return "mlp.gate_proj";
    case MlpLinear::kUp:
      return "mlp.up_proj";
    case MlpLinear::kDown:
      return "mlp.down_proj";
    case MlpLinear::kFc:
      return "mlp.c_fc";
    case MlpLinear::kProj:
      return "mlp.c_proj";
    case MlpLinear::kExpertGateUp:
      return "mlp.experts.gate_up_proj";
    case MlpLinear::kExpertDown:
      return "mlp.experts.down_proj";
  }
  return "?";
}

FloatMatrix Transformer::Logits(const FloatMatrix& h) const {
  const ModelConfig& c = config_;
  const int64_t d = c.hidden_size;
  const FloatMatrix hf = Norm(h, c.norm, c.norm_eps, ToVector(final_norm_w_),
                              ToVector(final_norm_b_));
  FloatMatrix logits(h.rows(), c.vocab_size);
  // LM head in row blocks of ~4M floats, widened into one buffer (the last block into its own).
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 22) / d);
  FloatMatrix w;
  for (int64_t r0 = 0; r0 < c.vocab_size; r0 += block) {
    const int64_t n = std::min<int64_t>(block, c.vocab_size - r0);
    w.resize(n, d);
    ReadFloatsParallel(lm_head_, r0 * d, n * d, w.data());
    quant::SgemmStrided(hf, w, /*transpose_b=*/true, logits.data() + r0, logits.cols());
  }
  return logits;
}

double NextTokenNll(const float* logits, int64_t vocab, int32_t next_id) {
  // exp(x - max) in float with Eigen's vectorised exp (~1 ulp), summed in double: the sum's
  // error stays ~1e-7 relative while a vocabulary of 150k costs ~0.1 ms, not ~1 ms.
  const Eigen::Map<const Eigen::ArrayXf> row(logits, vocab);
  const float m = row.maxCoeff();
  constexpr int64_t kBlock = 1024;
  alignas(16) float e[kBlock];
  double sum[4] = {0.0, 0.0, 0.0, 0.0};
  for (int64_t j0 = 0; j0 < vocab; j0 += kBlock) {
    const int64_t n = std::min(kBlock, vocab - j0);
    Eigen::Map<Eigen::ArrayXf>(e, n) = (row.segment(j0, n) - m).exp();
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      for (int k = 0; k < 4; ++k) sum[k] += e[j + k];
    }
    for (; j < n; ++j) sum[0] += e[j];
  }
  const double total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  return static_cast<double>(m) + std::log(total) - static_cast<double>(logits[next_id]);
}

absl::StatusOr<ForwardResult> Transformer::Forward(const std::vector<int32_t>& ids,
                                                   const ForwardHooks& hooks) const {
  const ModelConfig& c = config_;
  const int64_t T = static_cast<int64_t>(ids.size());
  absl::StatusOr<FloatMatrix> embedded = Embed(ids);
  if (!embedded.ok()) return embedded.status();
  FloatMatrix h = *std::move(embedded);

  // The MLP matrices of layer l are widened into layer l-1's (same shapes), so that the layers
  // do not fault in fresh pages one after the other.
  std::shared_ptr<LayerFloats> spare;
  for (int l = 0; l < c.num_layers; ++l) {
    absl::StatusOr<TransformerLayer> layer = Layer(l, std::move(spare));
    if (!layer.ok()) return layer.status();
    const attention::ReferenceAttention& attn = layer->attention();
    const bool capture = hooks.capture_attention_for_layer ? hooks.capture_attention_for_layer(l)
                                                           : hooks.capture_attention;
    attention::AttentionIntermediates inter;
    const FloatMatrix attn_in = layer->AttentionInput(h);
    absl::StatusOr<FloatMatrix> attn_out = attn.Forward(attn_in, capture ? &inter : nullptr);
    if (!attn_out.ok()) {
      return absl::Status(attn_out.status().code(),
                          absl::StrCat("layer ", l, ": ", attn_out.status().message()));
    }
    FloatMatrix out = h + *attn_out;
    const FloatMatrix mlp_in = layer->MlpInput(out);
    const FloatMatrix mlp_out = layer->Mlp(mlp_in);
    out += mlp_out;
    if (hooks.on_layer) {
      const LayerCapture cap{h,   attn_in, *attn_out, mlp_in, mlp_out, out,
                             capture ? &inter : nullptr, &attn};
      hooks.on_layer(l, cap);
    }
    h = std::move(out);
    spare = std::const_pointer_cast<LayerFloats>(std::move(layer->floats_));
    if (spare.use_count() != 1) spare.reset();  // someone else holds it
  }

  ForwardResult result;
  result.logits = Logits(h);
  result.num_predicted = T - 1;
  if (T < 2) {
    result.mean_nll = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  std::vector<double> nll(T - 1);
  ParallelRanges(T - 1, quant::SgemmThreads(), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      nll[t] = NextTokenNll(result.logits.data() + t * c.vocab_size, c.vocab_size, ids[t + 1]);
    }
  });
  double total = 0.0;
  for (double x : nll) total += x;  // in order: the same sum whatever the thread count
  result.mean_nll = total / static_cast<double>(T - 1);
  return result;
}

}  // namespace sinkscope::model
