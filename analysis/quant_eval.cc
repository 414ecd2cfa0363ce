#include "analysis/quant_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attention/attention_layer.h"
#include "quant/float_format.h"
#include "quant/int8_gemm.h"
#include "quant/int8_matrix.h"
#include "quant/quant_scheme.h"
#include "quant/quantize.h"
#include "quant/reference_int8_gemm.h"
#include "quant/sgemm.h"

namespace sinkscope::analysis {
namespace {

using model::FloatMatrix;
using quant::QuantScheme;
using Spec = QuantEvalSpec;

constexpr char kValid[] =
    "fp32, w8a8, w8a8_tensor, w4a16_g128 (any g<N>), fp8, mxfp4, kv8, kv4, kvfp8, and a weight "
    "part joined with a KV part by '_' (e.g. w8a8_kv8, w8a8_tensor_kv4, fp8_kvfp8)";

absl::Status UnknownConfig(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("unknown quantization configuration '", name,
                                                 "'", why.empty() ? "" : " (", why,
                                                 why.empty() ? "" : ")", "; valid: ", kValid));
}

// ---------------------------------------------------------------------------------------------
// Quantized products.

// Statistics of one linear input, accumulated over the calls of a forward pass.
struct InputStats {
  int64_t elements = 0, clipped = 0;
  double abs_max = 0.0;
  int32_t top1_channel = -1;
  double share_sum = 0.0;  // sum over units (rows, or 1 for a per-tensor scale) of the share
  int64_t share_units = 0;
};

// 1 - (max |x| over the other channels) / max |x| over [from, to) rows of x, as one scale sees it.
double Top1Share(const FloatMatrix& x, int64_t r0, int64_t r1, int32_t* top_channel,
                 double* abs_max) {
  const int64_t cols = x.cols();
  std::vector<float> channel_max(cols, 0.0f);
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = x.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) channel_max[c] = std::max(channel_max[c], std::fabs(row[c]));
  }
  int64_t top = 0;
  for (int64_t c = 1; c < cols; ++c) {
    if (channel_max[c] > channel_max[top]) top = c;
  }
  float second = 0.0f;
  for (int64_t c = 0; c < cols; ++c) {
    if (c != top) second = std::max(second, channel_max[c]);
  }
  if (top_channel != nullptr) *top_channel = static_cast<int32_t>(top);
  if (abs_max != nullptr) *abs_max = channel_max[top];
  return channel_max[top] > 0.0f ? 1.0 - static_cast<double>(second) / channel_max[top] : 0.0;
}

void FakeRows(FloatMatrix* m, quant::FloatFormat f) {
  quant::FakeQuantizeRowsFloat(m->data(), m->rows(), m->cols(), f);
}

class QuantizedProducts {
 public:
  QuantizedProducts(const Spec& spec, const QuantEvalOptions& o) : s_(spec), o_(o) {}

  // y = x W^T (W [out x in]) or x W (w_in_out, W [in x out]) under the configuration.
  absl::StatusOr<FloatMatrix> Linear(int layer, const std::string& name, int expert,
                                     const FloatMatrix& x, const FloatMatrix& w, bool w_in_out) {
    const bool int8 = s_.activations == Spec::Activations::kInt8PerToken ||
                      s_.activations == Spec::Activations::kInt8PerTensor;
    if (int8) return Int8Linear(layer, name, expert, x, w, w_in_out);
    // Weight-only and float formats: fake-quantized operands, fp32 product.
    FloatMatrix xq;
    const FloatMatrix* xp = &x;
    if (s_.activations == Spec::Activations::kE4M3PerToken) {
      xq = x;
      FakeRows(&xq, quant::FloatFormat::kE4M3);
      xp = &xq;
    }
    if (s_.weights == Spec::Weights::kFp32) {
      return quant::Sgemm(*xp, w, /*transpose_b=*/!w_in_out);
    }
    // [out x in]: output channels are rows, input channels (groups, MX blocks) run along rows.
    FloatMatrix wo = w_in_out ? FloatMatrix(w.transpose()) : w;
    switch (s_.weights) {
      case Spec::Weights::kInt4Group: {
        absl::StatusOr<FloatMatrix> f = quant::FakeQuantize(
            wo, QuantScheme::PerGroup(1, s_.weight_group).WithBits(4), name);
        if (!f.ok()) return f.status();
        wo = *std::move(f);
        break;
      }
      case Spec::Weights::kE4M3PerChannel:
        FakeRows(&wo, quant::FloatFormat::kE4M3);
        break;
      case Spec::Weights::kMxfp4:
        quant::FakeQuantizeMx(wo.data(), wo.rows(), wo.cols(), quant::MxElement::kFp4E2M1);
        break;
      case Spec::Weights::kInt8PerChannel: {
        absl::StatusOr<FloatMatrix> f = quant::FakeQuantize(wo, QuantScheme::PerChannel(0), name);
        if (!f.ok()) return f.status();
        wo = *std::move(f);
        break;
      }
      case Spec::Weights::kFp32:
        break;
    }
    return quant::Sgemm(*xp, wo, /*transpose_b=*/true);
  }

  // K or V of one KV head [keys x D], quantized per (token, KV head) in place.
  absl::Status QuantizeKv(FloatMatrix* m) const {
    switch (s_.kv) {
      case Spec::KvCache::kFp32:
        return absl::OkStatus();
      case Spec::KvCache::kInt8:
      case Spec::KvCache::kInt4: {
        absl::StatusOr<FloatMatrix> f = quant::FakeQuantize(
            *m, QuantScheme::PerToken().WithBits(s_.kv == Spec::KvCache::kInt8 ? 8 : 4), "KV");
        if (!f.ok()) return f.status();
        *m = *std::move(f);
        return absl::OkStatus();
      }
      case Spec::KvCache::kE4M3:
        FakeRows(m, quant::FloatFormat::kE4M3);
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  std::vector<v1::LinearInputStats> TakeStats() {
    std::vector<v1::LinearInputStats> out;
    for (const auto& [key, st] : stats_) {
      v1::LinearInputStats p;
      p.set_layer(std::get<0>(key));
      p.set_name(std::get<1>(key));
      p.set_expert(std::get<2>(key));
      p.set_elements(st.elements);
      p.set_clipped(st.clipped);
      p.set_abs_max(st.abs_max);
      p.set_top1_channel(st.top1_channel);
      p.set_top1_scale_share(st.share_units > 0 ? st.share_sum / st.share_units : 0.0);
      out.push_back(std::move(p));
    }
    stats_.clear();
    return out;
  }

  const std::string& gemm() const { return gemm_; }

 private:
  absl::StatusOr<FloatMatrix> Int8Linear(int layer, const std::string& name, int expert,
                                         const FloatMatrix& x, const FloatMatrix& w,
                                         bool w_in_out) {
    const bool per_token = s_.activations == Spec::Activations::kInt8PerToken;
    absl::StatusOr<quant::QuantizedTensor> qx = quant::Quantize(
        quant::ViewOf(x), per_token ? QuantScheme::PerToken() : QuantScheme::PerTensor(),
        name + " input");
    if (!qx.ok()) return qx.status();
    // W^T [in x out], one scale per output channel (column).
    const FloatMatrix wt = w_in_out ? w : FloatMatrix(w.transpose());
    absl::StatusOr<quant::QuantizedTensor> qw =
        quant::Quantize(quant::ViewOf(wt), QuantScheme::PerChannel(1), name);
    if (!qw.ok()) return qw.status();
    absl::StatusOr<quant::GemmOperand> a = quant::GemmOperandFrom(*qx, quant::GemmSide::kA);
    if (!a.ok()) return a.status();
    absl::StatusOr<quant::GemmOperand> b = quant::GemmOperandFrom(*qw, quant::GemmSide::kB);
    if (!b.ok()) return b.status();
    FloatMatrix y;
    if (o_.reference_int8_gemm) {
      absl::StatusOr<FloatMatrix> r = quant::ReferenceInt8Gemm(*a, *b);
      if (!r.ok()) return r.status();
      y = *std::move(r);
      gemm_ = "reference_int32";
    } else {
      absl::StatusOr<std::unique_ptr<quant::Int8Gemm>> g = quant::Int8Gemm::Create(*b);
      if (!g.ok()) return g.status();
      if (absl::Status st = (*g)->Run(*a, &y); !st.ok()) return st;
      gemm_ = absl::StrCat((*g)->impl_name(), " ", quant::MitigationName((*g)->mitigation()));
    }
    InputStats& st = stats_[{layer, name, expert}];
    st.elements += x.size();
    st.clipped += qx->clipped;
    int32_t top = -1;
    double amax = 0.0;
    if (per_token) {
      for (int64_t r = 0; r < x.rows(); ++r) {
        st.share_sum += Top1Share(x, r, r + 1, nullptr, nullptr);
        ++st.share_units;
      }
      Top1Share(x, 0, x.rows(), &top, &amax);
    } else {
      st.share_sum += Top1Share(x, 0, x.rows(), &top, &amax);
      ++st.share_units;
    }
    if (amax > st.abs_max || st.top1_channel < 0) {
      st.abs_max = amax;
      st.top1_channel = top;
    }
    return y;
  }

  Spec s_;
  QuantEvalOptions o_;
  std::map<std::tuple<int, std::string, int>, InputStats> stats_;
  std::string gemm_;
};

const char* ProjectionName(attention::Projection p) {
  switch (p) {
    case attention::Projection::kQ:
      return "self_attn.q_proj";
    case attention::Projection::kK:
      return "self_attn.k_proj";
    case attention::Projection::kV:
      return "self_attn.v_proj";
    case attention::Projection::kO:
      return "self_attn.o_proj";
  }
  return "?";
}

// The attention layer's products: projections through QuantizedProducts, K/V quantized per
// (token, KV head), Q K^T and P V in fp32.
class QuantizedAttentionBackend : public attention::MatmulBackend {
 public:
  QuantizedAttentionBackend(const attention::AttentionWeights& w, QuantizedProducts* q, int layer)
      : w_(w), q_(q), layer_(layer) {}

  absl::Status Project(attention::Projection which, const FloatMatrix& x,
                       FloatMatrix* out) override {
    const FloatMatrix& w = which == attention::Projection::kQ   ? w_.wq
                           : which == attention::Projection::kK ? w_.wk
                           : which == attention::Projection::kV ? w_.wv
                                                                : w_.wo;
    absl::StatusOr<FloatMatrix> y = q_->Linear(layer_, ProjectionName(which), -1, x, w, false);
    if (!y.ok()) return y.status();
    *out = *std::move(y);
    return absl::OkStatus();
  }
  absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) override {
    k_ = k;
    v_ = v;
    if (absl::Status st = q_->QuantizeKv(&k_); !st.ok()) return st;
    return q_->QuantizeKv(&v_);
  }
  absl::Status Scores(const FloatMatrix& q, FloatMatrix* out) override {
    quant::Sgemm(q, k_, /*transpose_b=*/true, out);
    return absl::OkStatus();
  }
  absl::Status Mix(const FloatMatrix& p, FloatMatrix* out) override {
    quant::Sgemm(p, v_, /*transpose_b=*/false, out);
    return absl::OkStatus();
  }
  std::string Name() const override { return "quant_eval"; }

 private:
  const attention::AttentionWeights& w_;
  QuantizedProducts* q_;
  int layer_;
  FloatMatrix k_, v_;
};

double SqnrDb(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

// Log-sum-exp of a logit row, in double.
double LogSumExp(const float* x, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(x[j]));
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(x[j]) - m);
  return m + std::log(s);
}

int64_t ArgMax(const float* x, int64_t n) {
  return std::max_element(x, x + n) - x;
}

}  // namespace

std::string QuantEvalSpec::WeightsText() const {
  switch (weights) {
    case Weights::kFp32:
      return "fp32";
    case Weights::kInt8PerChannel:
      return "int8 sym per output channel";
    case Weights::kInt4Group:
      return absl::StrCat("int4 sym per group of ", weight_group, " input channels");
    case Weights::kE4M3PerChannel:
      return "E4M3 per output channel (amax / 448)";
    case Weights::kMxfp4:
      return "MXFP4 (blocks of 32 inputs, E8M0 scale, E2M1)";
  }
  return "?";
}

std::string QuantEvalSpec::ActivationsText() const {
  switch (activations) {
    case Activations::kFp32:
      return "fp32";
    case Activations::kInt8PerToken:
      return "int8 sym per token";
    case Activations::kInt8PerTensor:
      return "int8 sym per tensor (dynamic)";
    case Activations::kE4M3PerToken:
      return "E4M3 per token (amax / 448)";
  }
  return "?";
}

std::string QuantEvalSpec::KvText() const {
  switch (kv) {
    case KvCache::kFp32:
      return "fp32";
    case KvCache::kInt8:
      return "int8 sym per (token, KV head)";
    case KvCache::kInt4:
      return "int4 sym per (token, KV head)";
    case KvCache::kE4M3:
      return "E4M3 per (token, KV head)";
  }
  return "?";
}

std::string ValidQuantConfigHelp() { return kValid; }

absl::StatusOr<QuantEvalSpec> ParseQuantConfig(absl::string_view name) {
  Spec s;
  s.name = std::string(name);
  if (name.empty()) return UnknownConfig(name, "empty");
  if (name.find('+') != absl::string_view::npos) {
    return UnknownConfig(name, "remedies ('+...') are not available yet");
  }
  if (name == "fp32") return s;
  const std::vector<std::string> parts = absl::StrSplit(name, '_');
  bool have_weights = false, have_kv = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "w8a8" || p == "w4a16" || p == "fp8" || p == "mxfp4") {
      if (have_weights) return UnknownConfig(name, "two weight parts");
      if (have_kv) return UnknownConfig(name, "the weight part comes first");
      have_weights = true;
      if (p == "w8a8") {
        s.weights = Spec::Weights::kInt8PerChannel;
        s.activations = Spec::Activations::kInt8PerToken;
        if (i + 1 < parts.size() && parts[i + 1] == "tensor") {
          s.activations = Spec::Activations::kInt8PerTensor;
          ++i;
        }
      } else if (p == "w4a16") {
        s.weights = Spec::Weights::kInt4Group;
        int g = 0;
        if (i + 1 >= parts.size() || parts[i + 1].size() < 2 || parts[i + 1][0] != 'g' ||
            !absl::SimpleAtoi(absl::string_view(parts[i + 1]).substr(1), &g) || g < 1) {
          return UnknownConfig(name, "w4a16 needs a group size, e.g. w4a16_g128");
        }
        s.weight_group = g;
        ++i;
      } else if (p == "fp8") {
        s.weights = Spec::Weights::kE4M3PerChannel;
        s.activations = Spec::Activations::kE4M3PerToken;
      } else {
        s.weights = Spec::Weights::kMxfp4;
      }
    } else if (p == "kv8" || p == "kv4" || p == "kvfp8") {
      if (have_kv) return UnknownConfig(name, "two KV parts");
      have_kv = true;
      s.kv = p == "kv8" ? Spec::KvCache::kInt8
                        : (p == "kv4" ? Spec::KvCache::kInt4 : Spec::KvCache::kE4M3);
    } else {
      return UnknownConfig(name, absl::StrCat("'", p, "'"));
    }
  }
  return s;
}

absl::StatusOr<std::vector<QuantEvalSpec>> ParseQuantConfigs(absl::string_view names) {
  std::vector<QuantEvalSpec> out;
  std::set<std::string> seen;
  for (absl::string_view n : absl::StrSplit(names, ',', absl::SkipWhitespace())) {
    absl::StatusOr<QuantEvalSpec> s = ParseQuantConfig(n);
    if (!s.ok()) return s.status();
    if (!seen.insert(s->name).second) {
      return absl::InvalidArgumentError(absl::StrCat("configuration '", n, "' given twice"));
    }
    out.push_back(*std::move(s));
  }
  if (out.empty()) return absl::InvalidArgumentError("no quantization configuration given");
  return out;
}

double KlDivergence(const float* ref, const float* got, int64_t vocab) {
  const double lr = LogSumExp(ref, vocab), lg = LogSumExp(got, vocab);
  double kl = 0.0;
  for (int64_t j = 0; j < vocab; ++j) {
    const double log_p = static_cast<double>(ref[j]) - lr;
    const double log_q = static_cast<double>(got[j]) - lg;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return std::max(kl, 0.0);
}

absl::StatusOr<QuantForwardResult> QuantizedForward(const model::Transformer& t,
                                                    const std::vector<int32_t>& ids,
                                                    const QuantEvalSpec& spec,
                                                    const QuantEvalOptions& options) {
  absl::StatusOr<FloatMatrix> embedded = t.Embed(ids);
  if (!embedded.ok()) return embedded.status();
  FloatMatrix h = *std::move(embedded);
  QuantizedProducts products(spec, options);
  QuantForwardResult result;
  const int L = t.config().num_layers;
  for (int l = 0; l < L; ++l) {
    absl::StatusOr<model::TransformerLayer> layer = t.Layer(l);
    if (!layer.ok()) return layer.status();
    const attention::ReferenceAttention& attn = layer->attention();
    QuantizedAttentionBackend backend(attn.weights(), &products, l);
    const FloatMatrix attn_in = layer->AttentionInput(h);
    absl::StatusOr<FloatMatrix> a =
        attention::RunAttentionLayer(attn.spec(), attn.weights(), backend, attn_in, nullptr);
    if (!a.ok()) {
      return absl::Status(a.status().code(), absl::StrCat("layer ", l, ": ", a.status().message()));
    }
    FloatMatrix out = h + *a;
    const FloatMatrix mlp_in = layer->MlpInput(out);
    const model::LinearFn linear = [&](model::MlpLinear which, int expert, const FloatMatrix& x,
                                       const FloatMatrix& w, bool w_in_out) {
      return products.Linear(l, model::MlpLinearName(which), expert, x, w, w_in_out);
    };
    absl::StatusOr<FloatMatrix> m = layer->Mlp(mlp_in, linear);
    if (!m.ok()) {
      return absl::Status(m.status().code(), absl::StrCat("layer ", l, ": ", m.status().message()));
    }
    out += *m;
    h = std::move(out);
    result.residuals.push_back(h);
  }
  result.logits = t.Logits(h);
  result.linear_inputs = products.TakeStats();
  result.gemm = products.gemm();
  return result;
}

absl::StatusOr<v1::QuantEvalReport> EvaluateQuantConfigs(
    const model::Transformer& t, const std::vector<std::vector<int32_t>>& sequences,
    const std::vector<QuantEvalSpec>& configs, const QuantEvalOptions& options) {
  if (sequences.empty()) return absl::InvalidArgumentError("quant_eval: no token sequences");
  if (configs.empty()) return absl::InvalidArgumentError("quant_eval: no configurations");
  for (size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "quant_eval: token sequence ", i, " has ", sequences[i].size(),
          " tokens; at least 2 are needed to predict one"));
    }
  }
  const int64_t vocab = t.config().vocab_size;
  const int L = t.config().num_layers;
  v1::QuantEvalReport report;
  report.set_model_type(t.config().model_type);
  report.set_num_layers(L);
  struct Accumulator {
    double sum_nll = 0.0, sum_kl = 0.0, seconds = 0.0;
    int64_t matches = 0;
    std::vector<double> signal, noise;
    std::map<std::tuple<int, std::string, int>, v1::LinearInputStats> inputs;
    std::string gemm;
  };
  std::vector<Accumulator> acc(configs.size());
  for (Accumulator& a : acc) {
    a.signal.assign(L, 0.0);
    a.noise.assign(L, 0.0);
  }
  double fp32_nll = 0.0;
  int64_t predicted = 0;
  for (const std::vector<int32_t>& ids : sequences) {
    const int64_t T = static_cast<int64_t>(ids.size());
    absl::StatusOr<QuantForwardResult> ref = QuantizedForward(t, ids, QuantEvalSpec{}, options);
    if (!ref.ok()) return ref.status();
    for (int64_t p = 0; p + 1 < T; ++p) {
      fp32_nll += model::NextTokenNll(ref->logits.data() + p * vocab, vocab, ids[p + 1]);
    }
    predicted += T - 1;
    for (size_t c = 0; c < configs.size(); ++c) {
      Accumulator& a = acc[c];
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<QuantForwardResult> got =
          configs[c].IsFp32() ? ref : QuantizedForward(t, ids, configs[c], options);
      if (!got.ok()) {
        return absl::Status(got.status().code(), absl::StrCat("configuration '", configs[c].name,
                                                              "': ", got.status().message()));
      }
      a.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      for (int64_t p = 0; p + 1 < T; ++p) {
        const float* r = ref->logits.data() + p * vocab;
        const float* g = got->logits.data() + p * vocab;
        a.sum_nll += model::NextTokenNll(g, vocab, ids[p + 1]);
        a.sum_kl += KlDivergence(r, g, vocab);
        a.matches += ArgMax(r, vocab) == ArgMax(g, vocab) ? 1 : 0;
      }
      for (int l = 0; l < L; ++l) {
        a.signal[l] += ref->residuals[l].cast<double>().squaredNorm();
        a.noise[l] += (ref->residuals[l] - got->residuals[l]).cast<double>().squaredNorm();
      }
      for (v1::LinearInputStats& s : got->linear_inputs) {
        auto [it, fresh] = a.inputs.try_emplace({s.layer(), s.name(), s.expert()}, s);
        if (fresh) continue;
        v1::LinearInputStats& m = it->second;
        // Shares are averages over units: weight by elements (the token count's proxy).
        const double w0 = static_cast<double>(m.elements()), w1 = static_cast<double>(s.elements());
        m.set_top1_scale_share((m.top1_scale_share() * w0 + s.top1_scale_share() * w1) / (w0 + w1));
        m.set_elements(m.elements() + s.elements());
        m.set_clipped(m.clipped() + s.clipped());
        if (s.abs_max() > m.abs_max()) {
          m.set_abs_max(s.abs_max());
          m.set_top1_channel(s.top1_channel());
        }
      }
      if (!got->gemm.empty()) a.gemm = got->gemm;
    }
  }
  report.set_num_predicted(predicted);
  report.set_fp32_mean_nll(fp32_nll / static_cast<double>(predicted));
  for (const std::vector<int32_t>& ids : sequences) report.add_tokens_per_file(ids.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    const Accumulator& a = acc[c];
    v1::QuantEvalConfig* out = report.add_configs();
    out->set_name(configs[c].name);
    out->set_weights(configs[c].WeightsText());
    out->set_activations(configs[c].ActivationsText());
    out->set_kv_cache(configs[c].KvText());
    out->set_num_predicted(predicted);
    out->set_sum_nll(a.sum_nll);
    out->set_sum_kl(configs[c].IsFp32() ? 0.0 : a.sum_kl);
    out->set_top1_matches(a.matches);
    out->set_mean_nll(a.sum_nll / static_cast<double>(predicted));
    out->set_delta_nll(out->mean_nll() - report.fp32_mean_nll());
    out->set_mean_kl(out->sum_kl() / static_cast<double>(predicted));
    out->set_top1_agreement(static_cast<double>(a.matches) / static_cast<double>(predicted));
    out->set_seconds(a.seconds);
    out->set_gemm(a.gemm);
    for (int l = 0; l < L; ++l) {
      v1::QuantEvalLayer* ly = out->add_layers();
      ly->set_layer(l);
      ly->set_signal(a.signal[l]);
      ly->set_noise(a.noise[l]);
      ly->set_residual_sqnr_db(SqnrDb(a.signal[l], a.noise[l]));
    }
    for (const auto& [key, s] : a.inputs) *out->add_linear_inputs() = s;
  }
  return report;
}

}  // namespace sinkscope::analysis
