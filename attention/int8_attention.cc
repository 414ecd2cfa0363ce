#include "attention/int8_attention.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "quant/calibration.h"
#include "quant/error_metrics.h"
#include "quant/int8_gemm.h"
#include "quant/int8_matrix.h"
#include "quant/quantize.h"

namespace sinkscope::attention {
namespace {

using quant::Granularity;
using quant::QuantScheme;

// Per row of a [rows x cols] matrix: per-token, or per-channel along axis 0.
bool PerRow(const QuantScheme& s) {
  return s.granularity == Granularity::kPerToken ||
         (s.granularity == Granularity::kPerChannel && (s.axis == 0 || s.axis == -2));
}
bool PerColumn(const QuantScheme& s) {
  return s.granularity == Granularity::kPerChannel && (s.axis == 1 || s.axis == -1);
}
bool PerTensor(const QuantScheme& s) { return s.granularity == Granularity::kPerTensor; }

absl::Status Unsupported(const char* operand, const QuantScheme& s, const char* allowed) {
  return absl::InvalidArgumentError(absl::StrCat("attention quant config: ", operand, " scheme '",
                                                 s.ToString(), "' is not supported (use ",
                                                 allowed, ")"));
}

quant::Int8Type TypeOf(const quant::QuantizedTensor& q) {
  return q.is_signed() ? quant::Int8Type::kS8 : quant::Int8Type::kU8;
}

// Codes of q [rows x cols] transposed to [cols x rows].
std::vector<uint8_t> TransposedCodes(const quant::QuantizedTensor& q) {
  const int64_t rows = q.shape()[0], cols = q.shape()[1];
  std::vector<uint8_t> t(q.bytes.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = q.bytes[r * cols + c];
  }
  return t;
}

}  // namespace

const char* ProbSchemeName(ProbScheme scheme) {
  switch (scheme) {
    case ProbScheme::kPerRow:
      return "per_row";
    case ProbScheme::kFixed:
      return "fixed";
    case ProbScheme::kFp32:
      return "fp32";
  }
  return "?";
}

absl::StatusOr<ProbScheme> ParseProbScheme(absl::string_view name) {
  for (ProbScheme s : {ProbScheme::kPerRow, ProbScheme::kFixed, ProbScheme::kFp32}) {
    if (name == ProbSchemeName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown P scheme '", name, "' (valid: per_row, fixed, fp32)"));
}

std::string AttentionQuantConfig::ToString() const {
  std::string p;
  switch (prob_scheme) {
    case ProbScheme::kPerRow:
      p = absl::StrCat("P u", prob_bits, " per-row");
      break;
    case ProbScheme::kFixed:
      p = absl::StrCat("P u", prob_bits, " fixed 1/", (1 << prob_bits) - 1);
      break;
    case ProbScheme::kFp32:
      p = "P fp32";
      break;
  }
  return absl::StrCat("W ", weights.ToString(), "; X ", activations.ToString(), "; Q ",
                      query.ToString(), "; K ", key.ToString(), "; V ", value.ToString(), "; ", p,
                      "; fp32 sink KV ", keep_sink_kv_fp32);
}

absl::Status ValidateQuantConfig(const AttentionQuantConfig& c) {
  for (const QuantScheme* s : {&c.weights, &c.activations, &c.query, &c.key, &c.value}) {
    if (absl::Status st = quant::ValidateScheme(*s); !st.ok()) return st;
  }
  if (!PerTensor(c.weights) && !PerColumn(c.weights)) {
    return Unsupported("weights", c.weights, "per-tensor or per-channel axis 1 of W^T");
  }
  if (!PerTensor(c.activations) && !PerRow(c.activations)) {
    return Unsupported("activations", c.activations, "per-tensor or per-token");
  }
  if (!PerTensor(c.query) && !PerRow(c.query)) {
    return Unsupported("query", c.query, "per-tensor or per-token");
  }
  for (const auto& [name, s] : {std::pair<const char*, const QuantScheme*>{"key", &c.key},
                                {"value", &c.value}}) {
    if (!PerTensor(*s) && !PerRow(*s) && !PerColumn(*s)) {
      return Unsupported(name, *s, "per-tensor, per-token or per-channel axis 1");
    }
  }
  if (c.prob_bits < 2 || c.prob_bits > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention quant config: prob_bits must be in 2..8, got ", c.prob_bits));
  }
  if (c.keep_sink_kv_fp32 < 0) {
    return absl::InvalidArgumentError("attention quant config: keep_sink_kv_fp32 must be >= 0");
  }
  return absl::OkStatus();
}

class Int8Attention::Backend : public MatmulBackend {
 public:
  Backend(const AttentionQuantConfig& config) : c_(config) {}

  absl::Status Prepare(const AttentionWeights& w) {
    const std::array<const FloatMatrix*, 4> ws = {&w.wq, &w.wk, &w.wv, &w.wo};
    const char* names[] = {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"};
    for (int i = 0; i < 4; ++i) {
      const FloatMatrix wt = ws[i]->transpose();  // [in x out]
      absl::StatusOr<quant::QuantizedTensor> q = quant::Quantize(quant::ViewOf(wt), c_.weights, names[i]);
      if (!q.ok()) return q.status();
      absl::StatusOr<quant::GemmOperand> op = quant::GemmOperandFrom(*q, quant::GemmSide::kB);
      if (!op.ok()) return op.status();
      absl::StatusOr<std::unique_ptr<quant::Int8Gemm>> g = quant::Int8Gemm::Create(*op);
      if (!g.ok()) return g.status();
      proj_[i] = *std::move(g);
    }
    return absl::OkStatus();
  }

  absl::Status Project(Projection which, const FloatMatrix& x, FloatMatrix* out) override {
    absl::StatusOr<quant::QuantizedTensor> qx =
        quant::Quantize(quant::ViewOf(x), c_.activations, "activations");
    if (!qx.ok()) return qx.status();
    absl::StatusOr<quant::GemmOperand> a = quant::GemmOperandFrom(*qx, quant::GemmSide::kA);
    if (!a.ok()) return a.status();
    return proj_[static_cast<int>(which)]->Run(*a, out);
  }

  // Quantizes this kv head's K and V once and prepares their GEMMs.
  absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) override {
    keys_ = k.rows();
    n_fp32_ = std::min<int64_t>(c_.keep_sink_kv_fp32, keys_);
    k_fp32_ = k.topRows(n_fp32_);
    v_fp32_ = v.topRows(n_fp32_);
    const int64_t kr = keys_ - n_fp32_;
    scores_gemm_.reset();
    mix_gemm_.reset();
    if (kr == 0) return absl::OkStatus();
    const FloatMatrix krm = k.bottomRows(kr), vrm = v.bottomRows(kr);
    // K: B = K^T [D x keys']. Per-channel scales lie along D, the reduction axis: they go into Q
    // (Q~ = Q diag(s_K)) and B keeps raw codes; asymmetric zero points become a row correction.
    absl::StatusOr<quant::QuantizedTensor> qk = quant::Quantize(quant::ViewOf(krm), c_.key, "K");
    if (!qk.ok()) return qk.status();
    const std::vector<uint8_t> kt = TransposedCodes(*qk);
    quant::GemmOperand bk;
    bk.matrix = {kt.data(), TypeOf(*qk), krm.cols(), krm.rows()};
    fold_k_ = PerColumn(c_.key);
    if (fold_k_) {
      s_k_.resize(krm.cols());
      z_k_.resize(krm.cols());
      for (int64_t d = 0; d < krm.cols(); ++d) {
        s_k_(d) = qk->params.scales[d];
        z_k_(d) = static_cast<float>(qk->params.zero_points[d]);
      }
      bk.quant.scales = {1.0f};
      bk.quant.zero_points = {0};
    } else {
      bk.quant.scales = qk->params.scales;  // per key (column of K^T) or one
      bk.quant.zero_points = qk->params.zero_points;
    }
    absl::StatusOr<std::unique_ptr<quant::Int8Gemm>> gk = quant::Int8Gemm::Create(bk);
    if (!gk.ok()) return gk.status();
    scores_gemm_ = *std::move(gk);
    // V: B = V [keys' x D]. Per-token scales lie along the keys: they go into P
    // (P~ = P diag(s_V / max s_V), still in [0, 1]) and B keeps raw codes with scale max s_V.
    absl::StatusOr<quant::QuantizedTensor> qv = quant::Quantize(quant::ViewOf(vrm), c_.value, "V");
    if (!qv.ok()) return qv.status();
    if (c_.prob_scheme == ProbScheme::kFp32) {
      // P stays fp32; V is what a quantized cache holds, dequantized.
      v_dequant_ = quant::DequantizeMatrix(*qv);
      return absl::OkStatus();
    }
    quant::GemmOperand bv;
    bv.matrix = {qv->bytes.data(), TypeOf(*qv), vrm.rows(), vrm.cols()};
    fold_v_ = PerRow(c_.value);
    // fixed: P~ times the code factor (levels) in one multiplication, as before per_row existed.
    const float levels =
        c_.prob_scheme == ProbScheme::kFixed ? static_cast<float>((1 << c_.prob_bits) - 1) : 1.0f;
    p_factor_ = Eigen::RowVectorXf::Constant(kr, levels);
    if (fold_v_) {
      const float s_max = *std::max_element(qv->params.scales.begin(), qv->params.scales.end());
      z_v_.resize(kr);
      for (int64_t j = 0; j < kr; ++j) {
        p_factor_(j) = qv->params.scales[j] / s_max * levels;
        z_v_(j) = static_cast<float>(qv->params.zero_points[j]);
      }
      bv.quant.scales = {s_max};
      bv.quant.zero_points = {0};
      v_scale_max_ = s_max;
    } else {
      bv.quant.scales = qv->params.scales;
      bv.quant.zero_points = qv->params.zero_points;
    }
    absl::StatusOr<std::unique_ptr<quant::Int8Gemm>> gv = quant::Int8Gemm::Create(bv);
    if (!gv.ok()) return gv.status();
    mix_gemm_ = *std::move(gv);
    return absl::OkStatus();
  }

  absl::Status Scores(const FloatMatrix& q, FloatMatrix* out) override {
    const int64_t n = n_fp32_, kr = keys_ - n_fp32_;
    out->resize(q.rows(), keys_);
    if (n > 0) out->leftCols(n).noalias() = q * k_fp32_.transpose();
    if (kr == 0) return absl::OkStatus();
    if (fold_k_) q_fold_ = q.array().rowwise() * s_k_.array();
    absl::StatusOr<quant::QuantizedTensor> qa =
        quant::Quantize(quant::ViewOf(fold_k_ ? q_fold_ : q), c_.query, "Q");
    if (!qa.ok()) return qa.status();
    absl::StatusOr<quant::GemmOperand> a = quant::GemmOperandFrom(*qa, quant::GemmSide::kA);
    if (!a.ok()) return a.status();
    FloatMatrix* dst = n == 0 ? out : &part_;
    if (absl::Status st = scores_gemm_->Run(*a, dst); !st.ok()) return st;
    if (fold_k_ && !c_.key.symmetric) {
      // sum_d Q~[t,d] (code - z_d) = GEMM - sum_d Q~[t,d] z_d, with Q~ as quantized.
      const Eigen::VectorXf corr = quant::DequantizeMatrix(*qa) * z_k_.transpose();
      dst->colwise() -= corr;
    }
    if (n > 0) out->rightCols(kr) = part_;
    return absl::OkStatus();
  }

  absl::Status Mix(const FloatMatrix& p, FloatMatrix* out) override {
    const int64_t n = n_fp32_, kr = keys_ - n_fp32_, rows = p.rows();
    if (kr == 0) {
      out->noalias() = p.leftCols(n) * v_fp32_;
      return absl::OkStatus();
    }
    if (c_.prob_scheme == ProbScheme::kFp32) {
      out->noalias() = p.rightCols(kr) * v_dequant_;
      if (n > 0) out->noalias() += p.leftCols(n) * v_fp32_;
      return absl::OkStatus();
    }
    QuantizeProbs(p);
    quant::GemmOperand a;
    a.matrix = {codes_.data(), quant::Int8Type::kU8, rows, kr};
    a.quant.scales = row_scales_;
    a.quant.zero_points = {0};
    if (absl::Status st = mix_gemm_->Run(a, out); !st.ok()) return st;
    if (fold_v_ && !c_.value.symmetric) {
      // s_max a_t sum_j P~c[t,j] (code - z_j) = GEMM - s_max a_t sum_j P~c[t,j] z_j.
      for (int64_t t = 0; t < rows; ++t) {
        double acc = 0.0;
        for (int64_t j = 0; j < kr; ++j) acc += codes_[t * kr + j] * static_cast<double>(z_v_(j));
        out->row(t).array() -= static_cast<float>(acc) * (v_scale_max_ * row_scales_[t]);
      }
    }
    if (recorded_ != nullptr) {
      recorded_->push_back({rows, kr, codes_, row_scales_});
    }
    if (n > 0) out->noalias() += p.leftCols(n) * v_fp32_;
    return absl::OkStatus();
  }

  void Record(std::vector<Int8Attention::ProbCodes>* codes) { recorded_ = codes; }

  std::string Name() const override { return "int8_onednn"; }

  std::string Description() const {
    return absl::StrCat(proj_[0]->impl_name(), " ", quant::MitigationName(proj_[0]->mitigation()));
  }

 private:
  AttentionQuantConfig c_;
  std::array<std::unique_ptr<quant::Int8Gemm>, 4> proj_;
  // The current kv head (SetKeysValues).
  int64_t keys_ = 0, n_fp32_ = 0;
  FloatMatrix k_fp32_, v_fp32_;            // the first n_fp32_ keys, unquantized
  std::unique_ptr<quant::Int8Gemm> scores_gemm_, mix_gemm_;
  bool fold_k_ = false, fold_v_ = false;
  Eigen::RowVectorXf s_k_, z_k_;           // K per-channel scales / zero points (fold)
  Eigen::RowVectorXf p_factor_, z_v_;      // P code factor per key; V zero points (fold)
  float v_scale_max_ = 1.0f;
  FloatMatrix v_dequant_;                  // ProbScheme::kFp32: V as the cache holds it
  FloatMatrix part_, q_fold_;              // reused buffers
  std::vector<uint8_t> codes_;             // reused: P~ codes
  std::vector<float> row_scales_;          // reused: P~ scale per row (one for kFixed)
  std::vector<Int8Attention::ProbCodes>* recorded_ = nullptr;

  // P~ = P diag(p_factor_) (the quantized keys) to codes_ and row_scales_, one pass per row.
  void QuantizeProbs(const FloatMatrix& p) {
    const int64_t n = n_fp32_, kr = keys_ - n_fp32_, rows = p.rows();
    const float levels = static_cast<float>((1 << c_.prob_bits) - 1);
    codes_.resize(rows * kr);
    const float* factor = p_factor_.data();
    if (c_.prob_scheme == ProbScheme::kFixed) {
      // p_factor_ includes the code factor: codes = round(P~ * levels), scale 1 / levels.
      row_scales_.assign(1, 1.0f / levels);
      for (int64_t t = 0; t < rows; ++t) {
        const float* src = p.data() + t * keys_ + n;
        uint8_t* dst = codes_.data() + t * kr;
        for (int64_t j = 0; j < kr; ++j) {
          const float c = quant::RoundHalfEven(src[j] * factor[j]);
          dst[j] = static_cast<uint8_t>(std::min(std::max(c, 0.0f), levels));
        }
      }
      return;
    }
    // per_row: a_t = max_j P~[t,j] / levels (a row with no quantized mass: any scale, codes 0).
    row_scales_.resize(rows);
    fold_row_.resize(kr);
    for (int64_t t = 0; t < rows; ++t) {
      const float* src = p.data() + t * keys_ + n;
      float* pt = fold_row_.data();
      float mx = 0.0f;
      for (int64_t j = 0; j < kr; ++j) {
        pt[j] = src[j] * factor[j];
        mx = std::max(mx, pt[j]);
      }
      const float scale = mx > 0.0f ? mx / levels : 1.0f / levels;
      row_scales_[t] = scale;
      uint8_t* dst = codes_.data() + t * kr;
      for (int64_t j = 0; j < kr; ++j) {
        const float c = quant::RoundHalfEven(pt[j] / scale);
        dst[j] = static_cast<uint8_t>(std::min(std::max(c, 0.0f), levels));
      }
    }
  }
  std::vector<float> fold_row_;            // reused: one row of P~
};

absl::StatusOr<Int8Attention> Int8Attention::Create(const AttentionSpec& spec,
                                                    AttentionWeights weights,
                                                    const AttentionQuantConfig& config) {
  if (absl::Status st = ValidateWeights(spec, weights); !st.ok()) return st;
  if (absl::Status st = ValidateQuantConfig(config); !st.ok()) return st;
  Int8Attention layer;
  layer.spec_ = spec;
  layer.config_ = config;
  layer.weights_ = std::make_shared<const AttentionWeights>(std::move(weights));
  layer.backend_ = std::make_shared<Backend>(config);
  if (absl::Status st = layer.backend_->Prepare(*layer.weights_); !st.ok()) return st;
  return layer;
}

absl::StatusOr<FloatMatrix> Int8Attention::Forward(const FloatMatrix& x,
                                                   AttentionIntermediates* inter) const {
  return RunAttentionLayer(spec_, *weights_, *backend_, x, inter);
}

absl::StatusOr<FloatMatrix> Int8Attention::ForwardRecordingProbCodes(
    const FloatMatrix& x, std::vector<ProbCodes>* codes) const {
  codes->clear();
  backend_->Record(codes);
  absl::StatusOr<FloatMatrix> y = RunAttentionLayer(spec_, *weights_, *backend_, x, nullptr);
  backend_->Record(nullptr);
  return y;
}

std::string Int8Attention::gemm_description() const { return backend_->Description(); }

absl::StatusOr<Int8Comparison> CompareInt8(const ReferenceAttention& reference,
                                           const Int8Attention& int8, const FloatMatrix& x) {
  AttentionIntermediates ri, qi;
  Int8Comparison c;
  absl::StatusOr<FloatMatrix> r = reference.Forward(x, &ri);
  if (!r.ok()) return r.status();
  absl::StatusOr<FloatMatrix> q = int8.Forward(x, &qi);
  if (!q.ok()) return q.status();
  c.reference = *std::move(r);
  c.int8 = *std::move(q);
  const auto stage = [&](const char* name, const auto& add) {
    quant::ErrorAccumulator acc;
    add(&acc);
    sinkscope::v1::QuantError e = quant::ToProto(acc.Finish(), name);
    e.set_path("int8");
    *e.mutable_scheme() = quant::ToProto(int8.config().activations);
    *e.mutable_weight_scheme() = quant::ToProto(int8.config().weights);
    c.stages.push_back(std::move(e));
  };
  const auto whole = [](const FloatMatrix& a, const FloatMatrix& b) {
    return [&a, &b](quant::ErrorAccumulator* acc) { acc->Add(a.data(), b.data(), a.size()); };
  };
  stage("q_proj", whole(ri.q, qi.q));
  stage("k_proj", whole(ri.k, qi.k));
  stage("v_proj", whole(ri.v, qi.v));
  stage("logits", [&](quant::ErrorAccumulator* acc) {
    for (size_t h = 0; h < ri.logits.size(); ++h) {
      for (int64_t i = 0; i < ri.logits[h].size(); ++i) {
        const float a = ri.logits[h].data()[i];
        if (std::isfinite(a)) acc->Add(a, qi.logits[h].data()[i]);  // visible entries only
      }
    }
  });
  stage("probs", [&](quant::ErrorAccumulator* acc) {
    for (size_t h = 0; h < ri.probs.size(); ++h) {
      acc->Add(ri.probs[h].data(), qi.probs[h].data(), ri.probs[h].size());
    }
  });
  stage("heads", whole(ri.heads, qi.heads));
  stage("output", whole(c.reference, c.int8));
  return c;
}

}  // namespace sinkscope::attention
