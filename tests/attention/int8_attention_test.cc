// Int8Attention: equal (to float rounding) to a fake-quantized float pipeline written here from
// the documented semantics; error vs ReferenceAttention bounded and falling with the bit width;
// keeping the sink token's KV in fp32 removes most of the error a massive activation causes.
#include "attention/int8_attention.h"

#include <cmath>
#include <iostream>
#include <random>

#include "attention/reference_attention.h"
#include "gtest/gtest.h"
#include "quant/quant_params.h"
#include "quant/quantize.h"

namespace sinkscope::attention {
namespace {

using quant::QuantScheme;

FloatMatrix RandomInput(int64_t T, int d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(T, d);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

FloatMatrix Fake(const FloatMatrix& m, const QuantScheme& s) {
  absl::StatusOr<FloatMatrix> f = quant::FakeQuantize(m, s, "operand");
  EXPECT_TRUE(f.ok()) << f.status();
  return *f;
}

// The int8 path's semantics in float: every operand fake-quantized, the K / V scales that lie on
// the reduction axis folded into Q / P as documented in int8_attention.h.
class FakeQuantBackend : public MatmulBackend {
 public:
  FakeQuantBackend(const AttentionWeights& w, const AttentionQuantConfig& c) : w_(w), c_(c) {}
  absl::Status Project(Projection which, const FloatMatrix& x, FloatMatrix* out) override {
    const FloatMatrix& w = which == Projection::kQ   ? w_.wq
                           : which == Projection::kK ? w_.wk
                           : which == Projection::kV ? w_.wv
                                                     : w_.wo;
    const FloatMatrix wt = w.transpose();
    *out = (Fake(x, c_.activations).cast<double>() * Fake(wt, c_.weights).cast<double>()).cast<float>();
    return absl::OkStatus();
  }
  absl::Status SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) override {
    k_ = k;
    v_ = v;
    return absl::OkStatus();
  }
  absl::Status Scores(const FloatMatrix& q, FloatMatrix* result) override {
    const FloatMatrix& k = k_;
    const int64_t n = std::min<int64_t>(c_.keep_sink_kv_fp32, k.rows());
    FloatMatrix out(q.rows(), k.rows());
    out.leftCols(n) = q * k.topRows(n).transpose();
    const FloatMatrix kr = k.bottomRows(k.rows() - n);
    if (kr.rows() == 0) {
      *result = out;
      return absl::OkStatus();
    }
    const FloatMatrix kq = Fake(kr, c_.key);
    absl::StatusOr<quant::QuantParams> kp = quant::ComputeQuantParams(quant::ViewOf(kr), c_.key, "K");
    Eigen::RowVectorXf s = Eigen::RowVectorXf::Ones(kr.cols());
    if (c_.key.granularity == quant::Granularity::kPerChannel) {
      for (int64_t d = 0; d < kr.cols(); ++d) s(d) = kp->scales[d];
    }
    // Q~ = Q diag(s), quantized, then unscaled: the effective query.
    const FloatMatrix qt = q.array().rowwise() * s.array();
    const FloatMatrix q_eff = Fake(qt, c_.query).array().rowwise() / s.array();
    out.rightCols(kr.rows()) = (q_eff.cast<double>() * kq.cast<double>().transpose()).cast<float>();
    *result = out;
    return absl::OkStatus();
  }
  absl::Status Mix(const FloatMatrix& p, FloatMatrix* result) override {
    const FloatMatrix& v = v_;
    const int64_t n = std::min<int64_t>(c_.keep_sink_kv_fp32, v.rows());
    FloatMatrix out = p.leftCols(n) * v.topRows(n);
    const FloatMatrix vr = v.bottomRows(v.rows() - n);
    if (vr.rows() == 0) {
      *result = out;
      return absl::OkStatus();
    }
    const FloatMatrix vq = Fake(vr, c_.value);
    absl::StatusOr<quant::QuantParams> vp = quant::ComputeQuantParams(quant::ViewOf(vr), c_.value, "V");
    Eigen::RowVectorXf r = Eigen::RowVectorXf::Ones(vr.rows());
    if (c_.value.granularity == quant::Granularity::kPerToken) {
      float mx = 0;
      for (float sc : vp->scales) mx = std::max(mx, sc);
      for (int64_t j = 0; j < vr.rows(); ++j) r(j) = vp->scales[j] / mx;
    }
    if (c_.prob_scheme == ProbScheme::kFp32) {
      out += (p.rightCols(vr.rows()).cast<double>() * vq.cast<double>()).cast<float>();
      *result = out;
      return absl::OkStatus();
    }
    const float levels = static_cast<float>((1 << c_.prob_bits) - 1);
    FloatMatrix pt = p.rightCols(vr.rows()).array().rowwise() * r.array();
    for (int64_t t = 0; t < pt.rows(); ++t) {
      // fixed: codes of step 1 / levels; per_row: step max_t P~ / levels.
      const float mx = pt.row(t).maxCoeff();
      const float step =
          c_.prob_scheme == ProbScheme::kPerRow && mx > 0.0f ? mx / levels : 1.0f / levels;
      pt.row(t) = (pt.row(t).array() / step).rint().max(0.0f).min(levels) * step;
    }
    const FloatMatrix p_eff = pt.array().rowwise() / r.array();
    out += (p_eff.cast<double>() * vq.cast<double>()).cast<float>();
    *result = out;
    return absl::OkStatus();
  }
  std::string Name() const override { return "fake_quant"; }

 private:
  const AttentionWeights& w_;
  AttentionQuantConfig c_;
  FloatMatrix k_, v_;
};

AttentionSpec Spec(Variant v) {
  AttentionSpec s;
  s.d_model = 64;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 16;
  s.rope_theta = 10000.0f;
  s.variant = v;
  s.num_sink_tokens = 2;
  return s;
}

double RelError(const FloatMatrix& a, const FloatMatrix& b) { return (a - b).norm() / b.norm(); }

TEST(Int8AttentionTest, EqualsTheFakeQuantizedPipeline) {
  struct Case {
    const char* name;
    AttentionQuantConfig c;
  };
  std::vector<Case> cases;
  cases.push_back({"defaults", AttentionQuantConfig{}});
  AttentionQuantConfig asym;
  asym.key = QuantScheme::PerChannel(1).Asymmetric();
  asym.value = QuantScheme::PerToken().Asymmetric();
  asym.query = QuantScheme::PerToken().Asymmetric();
  cases.push_back({"asymmetric K per-channel, V per-token", asym});
  AttentionQuantConfig direct;
  direct.key = QuantScheme::PerToken();
  direct.value = QuantScheme::PerChannel(1).Asymmetric();
  direct.keep_sink_kv_fp32 = 3;
  cases.push_back({"K per-token, V per-channel, 3 fp32 keys", direct});
  AttentionQuantConfig low;
  low.key = QuantScheme::PerChannel(1).WithBits(4);
  low.value = QuantScheme::PerToken().WithBits(4);
  low.prob_bits = 6;
  cases.push_back({"4-bit KV, 6-bit P", low});
  AttentionQuantConfig fixed_p;
  fixed_p.prob_scheme = ProbScheme::kFixed;
  cases.push_back({"P fixed scale", fixed_p});
  AttentionQuantConfig fp32_p;
  fp32_p.prob_scheme = ProbScheme::kFp32;
  fp32_p.value = QuantScheme::PerToken().Asymmetric();
  cases.push_back({"P fp32, asymmetric V per-token", fp32_p});
  AttentionQuantConfig asym_row;
  asym_row.value = QuantScheme::PerToken().Asymmetric();
  asym_row.keep_sink_kv_fp32 = 1;
  cases.push_back({"P per-row, asymmetric V per-token, 1 fp32 key", asym_row});
  for (Variant v : {Variant::kVanilla, Variant::kSinkTokens, Variant::kKvBias, Variant::kSinkLogit,
                    Variant::kSigmoid}) {
    const AttentionSpec s = Spec(v);
    const AttentionWeights w = RandomAttentionWeights(s, 5);
    const FloatMatrix x = RandomInput(20, s.d_model, 6);
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(VariantName(v)) + " / " + c.name);
      absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, w, c.c);
      ASSERT_TRUE(layer.ok()) << layer.status();
      absl::StatusOr<FloatMatrix> y = layer->Forward(x);
      ASSERT_TRUE(y.ok()) << y.status();
      FakeQuantBackend fake(w, c.c);
      absl::StatusOr<FloatMatrix> want = RunAttentionLayer(s, w, fake, x, nullptr);
      ASSERT_TRUE(want.ok());
      // Equal up to float rounding; at low bit widths a rounding difference upstream can flip a
      // code downstream, so there the bound is a tenth of the quantization error itself. At 8
      // bits: every output row to float rounding, except at most one row per case where a P~
      // code sat on a rounding boundary (per-row P codes reach 255, so float-level differences
      // upstream can move one), and that row within a quarter of the quantization error.
      EigenBackend exact(w);
      absl::StatusOr<FloatMatrix> ref = RunAttentionLayer(s, w, exact, x, nullptr);
      ASSERT_TRUE(ref.ok());
      const double quant_error = RelError(*want, *ref);
      if (c.c.key.bits == 8) {
        int flipped_rows = 0;
        for (int64_t t = 0; t < y->rows(); ++t) {
          const double e = (y->row(t) - want->row(t)).norm() / want->row(t).norm();
          if (e > 2e-5) ++flipped_rows;
          EXPECT_LT(e, 0.25 * quant_error) << "row " << t;
        }
        EXPECT_LE(flipped_rows, 1) << "quantization error " << quant_error;
      } else {
        EXPECT_LT(RelError(*y, *want), 0.1 * quant_error) << "quantization error " << quant_error;
      }
    }
  }
}

TEST(Int8AttentionTest, QueryBlocksDoNotChangeTheResult) {
  // Per-token Q: a block of queries is quantized exactly as the same rows of the whole.
  AttentionSpec s = Spec(Variant::kSinkLogit);
  s.num_kv_heads = 1;  // MQA: the group's 4 heads are stacked per block
  const AttentionWeights w = RandomAttentionWeights(s, 41);
  const FloatMatrix x = RandomInput(29, s.d_model, 42);
  AttentionQuantConfig c;
  c.keep_sink_kv_fp32 = 2;
  absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, w, c);
  ASSERT_TRUE(layer.ok());
  absl::StatusOr<FloatMatrix> whole = layer->Forward(x);
  ASSERT_TRUE(whole.ok());
  FakeQuantBackend fake(w, c);
  absl::StatusOr<FloatMatrix> want = RunAttentionLayer(s, w, fake, x, nullptr, 3);
  ASSERT_TRUE(want.ok());
  EXPECT_LT(RelError(*whole, *want), 2e-4);
}

TEST(Int8AttentionTest, ErrorFallsWithBitWidth) {
  // Sigmoid attention's P is not row-stochastic (weights in (0, 1), rows summing to anything):
  // the per-row P scale max_j P~ / levels covers it as it covers a softmax row.
  for (Variant v : {Variant::kVanilla, Variant::kSigmoid}) {
    SCOPED_TRACE(VariantName(v));
    const AttentionSpec s = Spec(v);
    const AttentionWeights w = RandomAttentionWeights(s, 7);
    const FloatMatrix x = RandomInput(48, s.d_model, 8);
    absl::StatusOr<ReferenceAttention> ref = ReferenceAttention::Create(s, w);
    ASSERT_TRUE(ref.ok());
    double previous = INFINITY;
    for (int bits = 4; bits <= 8; ++bits) {
      AttentionQuantConfig c;
      c.weights.bits = c.activations.bits = c.query.bits = c.key.bits = c.value.bits = bits;
      c.prob_bits = bits;
      absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, w, c);
      ASSERT_TRUE(layer.ok());
      absl::StatusOr<Int8Comparison> cmp = CompareInt8(*ref, *layer, x);
      ASSERT_TRUE(cmp.ok()) << cmp.status();
      ASSERT_EQ(cmp->stages.size(), 7u);
      EXPECT_EQ(cmp->stages[6].name(), "output");
      const double err = cmp->stages[6].rel_fro_error();
      std::cout << bits << " bits: output relative error " << err << ", SQNR "
                << cmp->stages[6].sqnr_db() << " dB\n";
      EXPECT_LT(err, previous) << bits << " bits";
      previous = err;
      if (bits == 8) {
        EXPECT_LT(err, 0.03);
        for (const auto& st : cmp->stages) EXPECT_GT(st.sqnr_db(), 25.0) << st.name();
      }
    }
  }
}

// Output error of tokens 1..T-1 (token 0 carries the massive activation): the mean over those
// tokens of each token's relative error, so that every token counts alike (rows that copy the
// sink's large value would otherwise dominate a Frobenius norm).
double OtherTokensError(const FloatMatrix& got, const FloatMatrix& want) {
  double sum = 0.0;
  for (int64_t t = 1; t < want.rows(); ++t) {
    sum += (got.row(t) - want.row(t)).norm() / want.row(t).norm();
  }
  return sum / static_cast<double>(want.rows() - 1);
}

TEST(Int8AttentionTest, KeepingTheSinkKvInFp32RemovesTheMassiveActivationCost) {
  const AttentionSpec s = Spec(Variant::kVanilla);
  const AttentionWeights w = RandomAttentionWeights(s, 11);
  FloatMatrix x = RandomInput(64, s.d_model, 12);
  x(0, 5) = 1000.0f;  // massive activations in the first token, two channels
  x(0, 40) = 1000.0f;
  absl::StatusOr<ReferenceAttention> ref = ReferenceAttention::Create(s, w);
  ASSERT_TRUE(ref.ok());
  absl::StatusOr<FloatMatrix> want = ref->Forward(x);
  ASSERT_TRUE(want.ok());
  struct Case {
    const char* name;
    QuantScheme key, value;
    double min_ratio;  // asserted, with margin below the measured value
  };
  const Case cases[] = {
      // Measured (seeded, P per_row): 2.15, 6.21, 1.59, 4.66. (With the fixed 1/255 P scale of
      // earlier versions the defaults measured 2.38: per-row P already recovers part of the
      // cost at keep0, without keeping the sink's K/V.)
      {"int8 KV per-tensor", QuantScheme{}, QuantScheme{}, 1.6},
      {"int4 KV per-tensor", QuantScheme{}.WithBits(4), QuantScheme{}.WithBits(4), 4.0},
      {"int8 K per-channel, V per-token (defaults)", QuantScheme::PerChannel(1),
       QuantScheme::PerToken(), 1.35},
      {"int4 K per-channel, V per-token", QuantScheme::PerChannel(1).WithBits(4),
       QuantScheme::PerToken().WithBits(4), 3.5},
  };
  for (const Case& c : cases) {
    double err[2];
    for (int keep : {0, 1}) {
      AttentionQuantConfig cfg;
      cfg.key = c.key;
      cfg.value = c.value;
      cfg.keep_sink_kv_fp32 = keep;
      absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, w, cfg);
      ASSERT_TRUE(layer.ok());
      absl::StatusOr<FloatMatrix> y = layer->Forward(x);
      ASSERT_TRUE(y.ok());
      err[keep] = OtherTokensError(*y, *want);
    }
    const double ratio = err[0] / err[1];
    std::cout << c.name << ": tokens 1..63 output relative error " << err[0]
              << " -> " << err[1] << " with keep_sink_kv_fp32=1, ratio " << ratio << "\n";
    EXPECT_GT(ratio, c.min_ratio) << c.name;
  }
}

TEST(Int8AttentionTest, BadConfigsAreErrors) {
  const AttentionSpec s = Spec(Variant::kVanilla);
  const AttentionWeights w = RandomAttentionWeights(s, 1);
  AttentionQuantConfig c;
  c.key = QuantScheme::PerGroup(1, 4);
  EXPECT_FALSE(Int8Attention::Create(s, w, c).ok());
  c = AttentionQuantConfig{};
  c.weights = QuantScheme::PerChannel(0);
  EXPECT_FALSE(Int8Attention::Create(s, w, c).ok());
  c = AttentionQuantConfig{};
  c.prob_bits = 9;
  EXPECT_FALSE(Int8Attention::Create(s, w, c).ok());
  c = AttentionQuantConfig{};
  c.keep_sink_kv_fp32 = -1;
  EXPECT_FALSE(Int8Attention::Create(s, w, c).ok());
}

}  // namespace
}  // namespace sinkscope::attention
