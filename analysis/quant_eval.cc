#include "analysis/quant_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include <Eigen/QR>

#include "absl/strings/match.h"
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

// Where a linear layer sits, for the remedies that transform its input or output.
enum class Role { kAttentionIn, kAttentionOut, kMlpIn, kMlpOut };

Role RoleOf(const std::string& name) {
  if (name == "self_attn.o_proj") return Role::kAttentionOut;
  if (name.rfind("self_attn.", 0) == 0) return Role::kAttentionIn;
  if (name == "mlp.down_proj" || name == "mlp.c_proj" || name == "mlp.experts.down_proj") {
    return Role::kMlpOut;
  }
  return Role::kMlpIn;
}

// A normalized Hadamard matrix (n a power of two, Sylvester's construction), or a seeded random
// orthogonal matrix (QR of a Gaussian matrix, signs fixed by R's diagonal).
FloatMatrix Orthogonal(int64_t n, uint64_t seed, std::string* kind);  // OrthogonalMatrix
FloatMatrix Orthogonal(int64_t n, uint64_t seed, std::string* kind) {
  if (n > 0 && (n & (n - 1)) == 0) {
    Eigen::MatrixXd h = Eigen::MatrixXd::Ones(1, 1);
    while (h.rows() < n) {
      Eigen::MatrixXd next(2 * h.rows(), 2 * h.rows());
      next << h, h, h, -h;
      h = next;
    }
    *kind = absl::StrCat("normalized Hadamard ", n);
    return (h / std::sqrt(static_cast<double>(n))).cast<float>();
  }
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(n));
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd g(n, n);
  for (int64_t i = 0; i < g.size(); ++i) g.data()[i] = normal(rng);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(n, n);
  const Eigen::MatrixXd r = qr.matrixQR().triangularView<Eigen::Upper>();
  for (int64_t j = 0; j < n; ++j) {
    if (r(j, j) < 0) q.col(j) *= -1.0;
  }
  *kind = absl::StrCat("random orthogonal ", n, " (seed ", seed, ")");
  return q.cast<float>();
}

// What QuantizedForward sets per layer before running it.
struct LayerContext {
  int layer = 0;
  Eigen::RowVectorXf smooth_attention, smooth_mlp;  // +smooth scales (empty: none)
  Eigen::RowVectorXf gain_attention, gain_mlp;      // +rotate: the norm gains
};

class QuantizedProducts {
 public:
  QuantizedProducts(const Spec& spec, const QuantEvalOptions& o) : s_(spec), o_(o) {}

  void SetLayer(LayerContext c) { ctx_ = std::move(c); }
  void SetRotations(FloatMatrix q, FloatMatrix ffn) {
    q_ = std::move(q);
    ffn_ = std::move(ffn);
  }

  // y = x W^T (W [out x in]) or x W (w_in_out, W [in x out]) under the configuration.
  absl::StatusOr<FloatMatrix> Linear(int layer, const std::string& name, int expert,
                                     const FloatMatrix& x_in, const FloatMatrix& w,
                                     bool w_in_out) {
    if (s_.transforms.empty() && !w_in_out) return Product(layer, name, expert, x_in, w);
    FloatMatrix x = x_in;
    FloatMatrix wo = w_in_out ? FloatMatrix(w.transpose()) : w;  // [out x in]
    const Role role = RoleOf(name);
    bool unrotate = false;
    for (Spec::Transform t : s_.transforms) {
      if (t == Spec::Transform::kSmooth) {
        const Eigen::RowVectorXf& sm =
            role == Role::kAttentionIn ? ctx_.smooth_attention
                                       : (role == Role::kMlpIn && expert < 0 ? ctx_.smooth_mlp
                                                                              : kNone);
        if (sm.size() == x.cols()) {
          x.array().rowwise() /= sm.array();
          wo.array().rowwise() *= sm.array();
        }
        continue;
      }
      // Rotation: inputs of q/k/v/gate/up become RMSNorm(h) Q with weights (W diag(g)) Q;
      // o/down write into the rotated stream (Q^T W, undone after the product); down's input
      // gets the FFN-width matrix.
      if (role == Role::kAttentionIn || role == Role::kMlpIn) {
        const Eigen::RowVectorXf& g =
            role == Role::kAttentionIn ? ctx_.gain_attention : ctx_.gain_mlp;
        const Eigen::RowVectorXf inv = g.unaryExpr([](float v) { return v != 0.0f ? 1.0f / v : 0.0f; });
        x = (x.array().rowwise() * inv.array()).matrix() * q_;
        wo = (wo.array().rowwise() * g.array()).matrix() * q_;
      } else {
        if (role == Role::kMlpOut && ffn_.rows() == x.cols()) {
          x = x * ffn_;
          wo = wo * ffn_;
        }
        wo = q_.transpose() * wo;
        unrotate = true;
      }
    }
    absl::StatusOr<FloatMatrix> y = Product(layer, name, expert, x, wo);
    if (!y.ok()) return y.status();
    if (unrotate) *y = *y * q_.transpose();
    return y;
  }

  // K or V of one KV head [keys x D], quantized per (token, KV head) in place; +keep_sink rows
  // stay fp32.
  absl::Status QuantizeKv(FloatMatrix* m) const {
    const int64_t n = std::min<int64_t>(s_.keep_sink, m->rows());
    if (s_.kv == Spec::KvCache::kFp32 || n == m->rows()) return absl::OkStatus();
    FloatMatrix rest = m->bottomRows(m->rows() - n);
    switch (s_.kv) {
      case Spec::KvCache::kFp32:
        break;
      case Spec::KvCache::kInt8:
      case Spec::KvCache::kInt4: {
        QuantScheme scheme = QuantScheme::PerToken().WithBits(s_.kv == Spec::KvCache::kInt8 ? 8 : 4);
        if (s_.clip) scheme.calibration = quant::Calibration::kMse;
        absl::StatusOr<FloatMatrix> f = quant::FakeQuantize(rest, scheme, "KV");
        if (!f.ok()) return f.status();
        rest = *std::move(f);
        break;
      }
      case Spec::KvCache::kE4M3:
        FakeRows(&rest, quant::FloatFormat::kE4M3);
        break;
    }
    m->bottomRows(m->rows() - n) = rest;
    return absl::OkStatus();
  }

  std::vector<v1::LinearInputStats> TakeStats() {
    std::vector<v1::LinearInputStats> out;
    for (auto& [key, st] : stats_) out.push_back(std::move(st));
    stats_.clear();
    return out;
  }

  const std::string& gemm() const { return gemm_; }

 private:
  bool Int8Activations() const {
    return s_.activations == Spec::Activations::kInt8PerToken ||
           s_.activations == Spec::Activations::kInt8PerTensor;
  }

  // Weights [out x in] under the base's weight format (fake-quantized, float).
  absl::StatusOr<FloatMatrix> FakeWeights(FloatMatrix wo, const std::string& name) const {
    switch (s_.weights) {
      case Spec::Weights::kFp32:
        return wo;
      case Spec::Weights::kInt4Group: {
        QuantScheme scheme = QuantScheme::PerGroup(1, s_.weight_group).WithBits(4);
        if (s_.clip) scheme.calibration = quant::Calibration::kMse;
        return quant::FakeQuantize(wo, scheme, name);
      }
      case Spec::Weights::kE4M3PerChannel:
        FakeRows(&wo, quant::FloatFormat::kE4M3);
        return wo;
      case Spec::Weights::kMxfp4:
        quant::FakeQuantizeMx(wo.data(), wo.rows(), wo.cols(), quant::MxElement::kFp4E2M1);
        return wo;
      case Spec::Weights::kInt8PerChannel: {
        QuantScheme scheme = QuantScheme::PerChannel(0);
        if (s_.clip) scheme.calibration = quant::Calibration::kMse;
        return quant::FakeQuantize(wo, scheme, name);
      }
    }
    return wo;
  }

  // x [T x in] W [out x in]^T with the base's quantization, +llmint8's fp32 channels and
  // +keep_sink's fp32 rows.
  absl::StatusOr<FloatMatrix> Product(int layer, const std::string& name, int expert,
                                      const FloatMatrix& x, const FloatMatrix& wo) {
    const bool quant_acts = s_.activations != Spec::Activations::kFp32;
    const int64_t T = x.rows(), in = x.cols();
    const int64_t n = quant_acts ? std::min<int64_t>(s_.keep_sink, T) : 0;
    // +llmint8: channels with max |x| >= 6 over the tokens.
    std::vector<int64_t> keep_cols, fp32_cols;
    for (int64_t j = 0; j < in; ++j) {
      (s_.llmint8 && x.col(j).cwiseAbs().maxCoeff() >= 6.0f ? fp32_cols : keep_cols).push_back(j);
    }
    const bool split = !fp32_cols.empty();
    // Copies only where +llmint8 drops columns or +keep_sink drops rows.
    FloatMatrix x_kept, w_kept, x_rest;
    if (split) {
      x_kept = x(Eigen::all, keep_cols);
      w_kept = wo(Eigen::all, keep_cols);
    }
    const FloatMatrix& xq = split ? x_kept : x;
    const FloatMatrix& wq = split ? w_kept : wo;
    FloatMatrix y(T, wo.rows());
    FloatMatrix w_deq;  // the quantized weights, for the fp32 rows (int8: only when n > 0)
    if (T > n && xq.cols() > 0) {
      if (n > 0) x_rest = xq.bottomRows(T - n);
      const FloatMatrix& xr = n > 0 ? x_rest : xq;
      absl::StatusOr<FloatMatrix> part = Int8Activations()
                                             ? Int8Product(layer, name, expert, xr, wq,
                                                           n > 0 ? &w_deq : nullptr)
                                             : FloatProduct(xr, wq, n > 0 ? &w_deq : nullptr,
                                                            name);
      if (!part.ok()) return part.status();
      if (n > 0) {
        y.bottomRows(T - n) = *part;
      } else {
        y = *std::move(part);
      }
    } else {
      absl::StatusOr<FloatMatrix> f = FakeWeights(wq, name);
      if (!f.ok()) return f.status();
      w_deq = *std::move(f);
      if (xq.cols() == 0) y.bottomRows(T - n).setZero();
    }
    if (n > 0) y.topRows(n).noalias() = xq.topRows(n) * w_deq.transpose();
    if (split) y.noalias() += x(Eigen::all, fp32_cols) * wo(Eigen::all, fp32_cols).transpose();
    if (split) {
      v1::LinearInputStats& st = Stats(layer, name, expert);
      std::set<int32_t> all(st.fp32_channels().begin(), st.fp32_channels().end());
      for (int64_t c : fp32_cols) all.insert(static_cast<int32_t>(c));
      st.clear_fp32_channels();
      for (int32_t c : all) st.add_fp32_channels(c);
    }
    return y;
  }

  // Activations fake-quantized per token (E4M3) or fp32, weights per the base; fp32 product.
  // `w_deq` (may be null): receives the weights as used, for +keep_sink's rows.
  absl::StatusOr<FloatMatrix> FloatProduct(const FloatMatrix& x, const FloatMatrix& wo,
                                           FloatMatrix* w_deq, const std::string& name) {
    FloatMatrix fake;
    if (s_.weights != Spec::Weights::kFp32) {
      absl::StatusOr<FloatMatrix> f = FakeWeights(wo, name);
      if (!f.ok()) return f.status();
      fake = *std::move(f);
    }
    const FloatMatrix& wq = s_.weights != Spec::Weights::kFp32 ? fake : wo;
    if (w_deq != nullptr) *w_deq = wq;
    if (s_.activations == Spec::Activations::kE4M3PerToken) {
      FloatMatrix xq = x;
      FakeRows(&xq, quant::FloatFormat::kE4M3);
      return quant::Sgemm(xq, wq, /*transpose_b=*/true);
    }
    return quant::Sgemm(x, wq, /*transpose_b=*/true);
  }

  // `w_deq` (may be null): receives the dequantized weights [out x in], for +keep_sink's rows.
  absl::StatusOr<FloatMatrix> Int8Product(int layer, const std::string& name, int expert,
                                          const FloatMatrix& x, const FloatMatrix& wo,
                                          FloatMatrix* w_deq) {
    const bool per_token = s_.activations == Spec::Activations::kInt8PerToken;
    QuantScheme xs = per_token ? QuantScheme::PerToken() : QuantScheme::PerTensor();
    QuantScheme ws = QuantScheme::PerChannel(0);
    if (s_.clip) xs.calibration = ws.calibration = quant::Calibration::kMse;
    absl::StatusOr<quant::QuantizedTensor> qx = quant::Quantize(quant::ViewOf(x), xs, name + " input");
    if (!qx.ok()) return qx.status();
    // One scale per output channel: quantized as rows of W [out x in] (contiguous), then the
    // codes transposed into the GEMM's B = W^T [in x out].
    absl::StatusOr<quant::QuantizedTensor> qw_rows = quant::Quantize(quant::ViewOf(wo), ws, name);
    if (!qw_rows.ok()) return qw_rows.status();
    if (w_deq != nullptr) *w_deq = quant::DequantizeMatrix(*qw_rows);
    absl::StatusOr<quant::QuantizedTensor> qw = quant::TransposeQuantized(*qw_rows);
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
    v1::LinearInputStats run;
    run.set_elements(x.size());
    run.set_clipped(qx->clipped);
    int32_t top = -1;
    double amax = 0.0, share = 0.0;
    if (per_token) {
      for (int64_t r = 0; r < x.rows(); ++r) share += Top1Share(x, r, r + 1, nullptr, nullptr);
      share /= static_cast<double>(std::max<int64_t>(1, x.rows()));
      Top1Share(x, 0, x.rows(), &top, &amax);
    } else {
      share = Top1Share(x, 0, x.rows(), &top, &amax);
    }
    run.set_abs_max(amax);
    run.set_top1_channel(top);
    run.set_top1_scale_share(share);
    MergeLinearInputStats(run, &Stats(layer, name, expert));
    return y;
  }

  v1::LinearInputStats& Stats(int layer, const std::string& name, int expert) {
    auto [it, fresh] = stats_.try_emplace({layer, name, expert});
    if (fresh) {
      it->second.set_layer(layer);
      it->second.set_name(name);
      it->second.set_expert(expert);
    }
    return it->second;
  }

  static inline const Eigen::RowVectorXf kNone{};
  Spec s_;
  QuantEvalOptions o_;
  LayerContext ctx_;
  FloatMatrix q_, ffn_;  // +rotate
  std::map<std::tuple<int, std::string, int>, v1::LinearInputStats> stats_;
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

namespace {

absl::StatusOr<QuantEvalSpec> ParseBase(absl::string_view full, absl::string_view name) {
  Spec s;
  s.name = std::string(full);
  s.base = std::string(name);
  if (name.empty()) return UnknownConfig(full, "empty");
  if (name == "fp32") return s;
  const std::vector<std::string> parts = absl::StrSplit(name, '_');
  bool have_weights = false, have_kv = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "w8a8" || p == "w4a16" || p == "fp8" || p == "mxfp4") {
      if (have_weights) return UnknownConfig(full, "two weight parts");
      if (have_kv) return UnknownConfig(full, "the weight part comes first");
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
          return UnknownConfig(full, "w4a16 needs a group size, e.g. w4a16_g128");
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
      if (have_kv) return UnknownConfig(full, "two KV parts");
      have_kv = true;
      s.kv = p == "kv8" ? Spec::KvCache::kInt8
                        : (p == "kv4" ? Spec::KvCache::kInt4 : Spec::KvCache::kE4M3);
    } else {
      return UnknownConfig(full, absl::StrCat("'", p, "'"));
    }
  }
  return s;
}

constexpr char kValidRemedies[] =
    "+keep_sink, +keep_sinkN, +smooth, +smoothA (0 < A < 1), +rotate, +llmint8, +clip";

absl::Status BadRemedy(absl::string_view full, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("configuration '", full, "': ", why,
                                                 "; remedies: ", kValidRemedies));
}

}  // namespace

absl::StatusOr<QuantEvalSpec> ParseQuantConfig(absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '+');
  absl::StatusOr<Spec> parsed = ParseBase(name, parts[0]);
  if (!parsed.ok()) return parsed.status();
  Spec s = *std::move(parsed);
  std::set<std::string> seen;
  for (size_t i = 1; i < parts.size(); ++i) {
    const absl::string_view r = parts[i];
    const auto suffix = [&](absl::string_view prefix) { return r.substr(prefix.size()); };
    std::string kind;
    if (absl::StartsWith(r, "keep_sink")) {
      kind = "keep_sink";
      int n = 1;
      if (r.size() > 9 && (!absl::SimpleAtoi(suffix("keep_sink"), &n) || n < 1)) {
        return BadRemedy(name, absl::StrCat("'+", r, "' needs a token count >= 1"));
      }
      s.keep_sink = n;
      if (s.activations == Spec::Activations::kFp32 && s.kv == Spec::KvCache::kFp32) {
        return BadRemedy(name, "+keep_sink protects quantized activations or K/V, and this "
                               "configuration quantizes neither");
      }
    } else if (absl::StartsWith(r, "smooth")) {
      kind = "smooth";
      double a = 0.5;
      if (r.size() > 6 && !absl::SimpleAtod(suffix("smooth"), &a)) {
        return BadRemedy(name, absl::StrCat("'+", r, "': alpha is not a number"));
      }
      if (!(a > 0.0 && a < 1.0)) {
        return BadRemedy(name, absl::StrCat("'+", r, "': alpha ", a, " is outside (0, 1)"));
      }
      s.smooth_alpha = a;
      s.transforms.push_back(Spec::Transform::kSmooth);
    } else if (r == "rotate") {
      kind = "rotate";
      s.transforms.push_back(Spec::Transform::kRotate);
    } else if (r == "llmint8") {
      kind = "llmint8";
      s.llmint8 = true;
      if (s.activations == Spec::Activations::kFp32) {
        return BadRemedy(name, "+llmint8 keeps activation channels in fp32 and this "
                               "configuration does not quantize activations");
      }
    } else if (r == "clip") {
      kind = "clip";
      s.clip = true;
      const bool integer = s.weights == Spec::Weights::kInt8PerChannel ||
                           s.weights == Spec::Weights::kInt4Group ||
                           s.kv == Spec::KvCache::kInt8 || s.kv == Spec::KvCache::kInt4;
      if (!integer) {
        return BadRemedy(name, "+clip chooses integer scales and this configuration has no "
                               "integer format");
      }
    } else {
      return BadRemedy(name, absl::StrCat("unknown remedy '+", r, "'"));
    }
    if (!seen.insert(kind).second) return BadRemedy(name, absl::StrCat("+", kind, " given twice"));
    s.remedies.push_back(std::string(r));
  }
  return s;
}

bool QuantEvalSpec::Rotates() const {
  return std::find(transforms.begin(), transforms.end(), Transform::kRotate) != transforms.end();
}

absl::Status CheckSpecForModel(const QuantEvalSpec& spec, const model::ModelConfig& config) {
  if (spec.Rotates() && config.norm != model::NormKind::kRmsNorm) {
    return absl::InvalidArgumentError(absl::StrCat(
        "configuration '", spec.name, "': +rotate needs RMSNorm (", config.model_type,
        " uses LayerNorm, whose mean subtraction does not commute with a rotation; the "
        "centering fold is not implemented)"));
  }
  return absl::OkStatus();
}

void InputAbsMax::Merge(const InputAbsMax& o) {
  if (attention.empty()) {
    *this = o;
    return;
  }
  for (size_t l = 0; l < attention.size() && l < o.attention.size(); ++l) {
    attention[l] = attention[l].cwiseMax(o.attention[l]);
    mlp[l] = mlp[l].cwiseMax(o.mlp[l]);
  }
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

void MergeLinearInputStats(const v1::LinearInputStats& in, v1::LinearInputStats* into) {
  // Shares are averages over units: weighted by elements (the token count's proxy).
  const double w0 = static_cast<double>(into->elements()), w1 = static_cast<double>(in.elements());
  if (w0 + w1 > 0) {
    into->set_top1_scale_share((into->top1_scale_share() * w0 + in.top1_scale_share() * w1) /
                               (w0 + w1));
  }
  into->set_elements(into->elements() + in.elements());
  into->set_clipped(into->clipped() + in.clipped());
  if (in.fp32_channels_size() > 0) {
    std::set<int32_t> all(into->fp32_channels().begin(), into->fp32_channels().end());
    all.insert(in.fp32_channels().begin(), in.fp32_channels().end());
    into->clear_fp32_channels();
    for (int32_t c : all) into->add_fp32_channels(c);
  }
  if (in.abs_max() > into->abs_max()) {
    into->set_abs_max(in.abs_max());
    into->set_top1_channel(in.top1_channel());
  }
}

model::FloatMatrix OrthogonalMatrix(int64_t n, uint64_t seed, std::string* kind) {
  return Orthogonal(n, seed, kind);
}

void FinishQuantEvalMeans(v1::QuantEvalReport* r) {
  const double n = static_cast<double>(std::max<int64_t>(1, r->num_predicted()));
  r->set_fp32_mean_nll(r->fp32_sum_nll() / n);
  for (v1::QuantEvalConfig& c : *r->mutable_configs()) {
    c.set_num_predicted(r->num_predicted());
    c.set_mean_nll(c.sum_nll() / n);
    c.set_delta_nll(c.mean_nll() - r->fp32_mean_nll());
    c.set_mean_kl(c.sum_kl() / n);
    c.set_top1_agreement(static_cast<double>(c.top1_matches()) / n);
    for (v1::QuantEvalLayer& l : *c.mutable_layers()) {
      l.set_residual_sqnr_db(SqnrDb(l.signal(), l.noise()));
    }
  }
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

namespace {

Eigen::RowVectorXf ColumnAbsMax(const FloatMatrix& x) {
  return x.cwiseAbs().colwise().maxCoeff();
}

// SmoothQuant: s_j = max|X_j|^a / max|W_j|^(1 - a), W_j column j of the stacked weights.
Eigen::RowVectorXf SmoothScales(const Eigen::VectorXf& x_absmax,
                                const std::vector<const FloatMatrix*>& weights, double alpha) {
  Eigen::RowVectorXf w_absmax = Eigen::RowVectorXf::Zero(x_absmax.size());
  for (const FloatMatrix* w : weights) w_absmax = w_absmax.cwiseMax(ColumnAbsMax(*w));
  Eigen::RowVectorXf s(x_absmax.size());
  for (int64_t j = 0; j < s.size(); ++j) {
    const double xa = std::max(1e-5, static_cast<double>(x_absmax(j)));
    const double wa = std::max(1e-5, static_cast<double>(w_absmax(j)));
    s(j) = static_cast<float>(std::pow(xa, alpha) / std::pow(wa, 1.0 - alpha));
  }
  return s;
}

}  // namespace

absl::StatusOr<QuantForwardResult> QuantizedForward(const model::Transformer& t,
                                                    const std::vector<int32_t>& ids,
                                                    const QuantEvalSpec& spec,
                                                    const QuantEvalOptions& options,
                                                    const InputAbsMax* calibration) {
  if (absl::Status st = CheckSpecForModel(spec, t.config()); !st.ok()) return st;
  const bool smooth = spec.smooth_alpha > 0.0;
  if (smooth && (calibration == nullptr ||
                 static_cast<int>(calibration->attention.size()) != t.config().num_layers)) {
    return absl::InvalidArgumentError(
        absl::StrCat("configuration '", spec.name, "': +smooth needs calibration statistics"));
  }
  absl::StatusOr<FloatMatrix> embedded = t.Embed(ids);
  if (!embedded.ok()) return embedded.status();
  FloatMatrix h = *std::move(embedded);
  QuantizedProducts products(spec, options);
  QuantForwardResult result;
  if (spec.Rotates()) {
    std::string q_kind, f_kind;
    FloatMatrix q = Orthogonal(t.config().hidden_size, options.rotation_seed, &q_kind);
    FloatMatrix f = Orthogonal(t.config().intermediate_size, options.rotation_seed + 1, &f_kind);
    result.rotation = absl::StrCat("residual: ", q_kind, "; down_proj input: ", f_kind);
    products.SetRotations(std::move(q), std::move(f));
  }
  const int L = t.config().num_layers;
  for (int l = 0; l < L; ++l) {
    absl::StatusOr<model::TransformerLayer> layer = t.Layer(l);
    if (!layer.ok()) return layer.status();
    const attention::ReferenceAttention& attn = layer->attention();
    LayerContext ctx;
    ctx.layer = l;
    if (spec.Rotates()) {
      ctx.gain_attention = layer->norm1_weight().transpose();
      ctx.gain_mlp = layer->norm2_weight().transpose();
    }
    if (smooth) {
      const attention::AttentionWeights& w = attn.weights();
      ctx.smooth_attention =
          SmoothScales(calibration->attention[l], {&w.wq, &w.wk, &w.wv}, spec.smooth_alpha);
      const std::vector<FloatMatrix> mlp_w = layer->MlpInputWeights();
      std::vector<const FloatMatrix*> ptrs;
      for (const FloatMatrix& m : mlp_w) ptrs.push_back(&m);
      if (!ptrs.empty()) {
        ctx.smooth_mlp = SmoothScales(calibration->mlp[l], ptrs, spec.smooth_alpha);
      }
    }
    products.SetLayer(std::move(ctx));
    QuantizedAttentionBackend backend(attn.weights(), &products, l);
    const FloatMatrix attn_in = layer->AttentionInput(h);
    result.input_absmax.attention.push_back(ColumnAbsMax(attn_in).transpose());
    absl::StatusOr<FloatMatrix> a =
        attention::RunAttentionLayer(attn.spec(), attn.weights(), backend, attn_in, nullptr);
    if (!a.ok()) {
      return absl::Status(a.status().code(), absl::StrCat("layer ", l, ": ", a.status().message()));
    }
    FloatMatrix out = h + *a;
    const FloatMatrix mlp_in = layer->MlpInput(out);
    result.input_absmax.mlp.push_back(ColumnAbsMax(mlp_in).transpose());
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
  for (const QuantEvalSpec& c : configs) {
    if (absl::Status st = CheckSpecForModel(c, t.config()); !st.ok()) return st;
  }
  // +smooth's max |X_j|: fp32 passes over the calibration tokens.
  InputAbsMax calibration;
  const bool any_smooth = std::any_of(configs.begin(), configs.end(),
                                      [](const QuantEvalSpec& c) { return c.smooth_alpha > 0; });
  const std::vector<std::vector<int32_t>>& calib_seqs =
      options.calibration.empty() ? sequences : options.calibration;
  if (any_smooth) {
    for (const std::vector<int32_t>& ids : calib_seqs) {
      absl::StatusOr<QuantForwardResult> r = QuantizedForward(t, ids, QuantEvalSpec{}, options);
      if (!r.ok()) return r.status();
      calibration.Merge(r->input_absmax);
    }
  }
  int64_t calib_tokens = 0;
  for (const auto& ids : calib_seqs) calib_tokens += static_cast<int64_t>(ids.size());
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
    std::string gemm, rotation;
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
          configs[c].IsFp32() ? ref
                              : QuantizedForward(t, ids, configs[c], options, &calibration);
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
        if (!fresh) MergeLinearInputStats(s, &it->second);
      }
      if (!got->gemm.empty()) a.gemm = got->gemm;
      if (!got->rotation.empty()) a.rotation = got->rotation;
    }
  }
  report.set_num_predicted(predicted);
  report.set_fp32_sum_nll(fp32_nll);
  for (const std::vector<int32_t>& ids : sequences) report.add_tokens_per_file(ids.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    const Accumulator& a = acc[c];
    v1::QuantEvalConfig* out = report.add_configs();
    out->set_name(configs[c].name);
    out->set_weights(configs[c].WeightsText());
    out->set_activations(configs[c].ActivationsText());
    out->set_kv_cache(configs[c].KvText());
    out->set_base(configs[c].base.empty() ? configs[c].name : configs[c].base);
    for (const std::string& r : configs[c].remedies) out->add_remedies(r);
    out->set_keep_sink_tokens(configs[c].keep_sink);
    out->set_smooth_alpha(configs[c].smooth_alpha);
    if (configs[c].smooth_alpha > 0) {
      out->set_smooth_calibration(absl::StrCat(
          options.calibration.empty() ? "the evaluated tokens" : options.calibration_name, " (",
          calib_tokens, " tokens)"));
    }
    out->set_rotation(a.rotation);
    out->set_sum_nll(a.sum_nll);
    out->set_sum_kl(configs[c].IsFp32() ? 0.0 : a.sum_kl);
    out->set_top1_matches(a.matches);
    out->set_seconds(a.seconds);
    out->set_gemm(a.gemm);
    for (int l = 0; l < L; ++l) {
      v1::QuantEvalLayer* ly = out->add_layers();
      ly->set_layer(l);
      ly->set_signal(a.signal[l]);
      ly->set_noise(a.noise[l]);
    }
    for (const auto& [key, s] : a.inputs) *out->add_linear_inputs() = s;
  }
  FinishQuantEvalMeans(&report);
  return report;
}

}  // namespace sinkscope::analysis
