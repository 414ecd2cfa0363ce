// ReferenceAttention against a naive loop written here from the formulas (DESIGN.md section 3),
// over every variant x mask x head layout x RoPE layout, and the identities between variants.
#include "attention/reference_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sinkscope::attention {
namespace {

FloatMatrix RandomInput(int64_t T, int d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(T, d);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

// RoPE by its definition, in double.
std::vector<double> Rotate(std::vector<double> v, int64_t pos, double theta, RopeLayout layout) {
  const int D = static_cast<int>(v.size());
  std::vector<double> out = v;
  for (int i = 0; i < D / 2; ++i) {
    const double ang = pos * std::pow(theta, -2.0 * i / D);
    const int a = layout == RopeLayout::kInterleaved ? 2 * i : i;
    const int b = layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + D / 2;
    out[a] = v[a] * std::cos(ang) - v[b] * std::sin(ang);
    out[b] = v[a] * std::sin(ang) + v[b] * std::cos(ang);
  }
  return out;
}

// row r of (in W^T + b) restricted to output features [off, off + D).
std::vector<double> Proj(const FloatMatrix& in, int64_t r, const FloatMatrix& w,
                         const FloatVector& b, int off, int D) {
  std::vector<double> out(D, 0.0);
  for (int o = 0; o < D; ++o) {
    double s = b.size() > 0 ? b(off + o) : 0.0;
    for (int64_t i = 0; i < in.cols(); ++i) s += static_cast<double>(in(r, i)) * w(off + o, i);
    out[o] = s;
  }
  return out;
}

FloatMatrix NaiveAttention(const AttentionSpec& s, const AttentionWeights& w, const FloatMatrix& x) {
  const int64_t T = x.rows();
  const int H = s.num_heads, D = s.head_dim, G = s.num_heads / s.num_kv_heads;
  const int n_sink = s.variant == Variant::kSinkTokens ? s.num_sink_tokens : 0;
  const double scale = s.softmax_scale > 0 ? s.softmax_scale : 1.0 / std::sqrt(double(D));
  std::vector<std::vector<double>> heads(T, std::vector<double>(H * D, 0.0));
  for (int64_t t = 0; t < T; ++t) {
    for (int h = 0; h < H; ++h) {
      const int g = h / G;
      std::vector<double> q = Proj(x, t, w.wq, w.bq, h * D, D);
      if (s.rope_theta > 0) q = Rotate(q, n_sink + t, s.rope_theta, s.rope_layout);
      std::vector<std::vector<double>> ks, vs;
      const auto add_key = [&](const FloatMatrix& src, int64_t r, int64_t pos) {
        std::vector<double> k = Proj(src, r, w.wk, w.bk, g * D, D);
        if (s.rope_theta > 0) k = Rotate(k, pos, s.rope_theta, s.rope_layout);
        ks.push_back(k);
        vs.push_back(Proj(src, r, w.wv, w.bv, g * D, D));
      };
      for (int j = 0; j < n_sink; ++j) add_key(w.sink_tokens, j, j);
      if (s.variant == Variant::kKvBias) {
        ks.emplace_back(w.k_bias.row(g).data(), w.k_bias.row(g).data() + D);
        vs.emplace_back(w.v_bias.row(g).data(), w.v_bias.row(g).data() + D);
      }
      const size_t prefix = ks.size();
      for (int64_t r = 0; r < T; ++r) {
        const bool visible = s.mask == MaskKind::kNone ||
                             (r <= t && (s.mask == MaskKind::kCausal || t - s.window < r));
        if (visible) add_key(x, r, n_sink + r);
      }
      std::vector<double> z(ks.size());
      double m = -INFINITY;
      for (size_t j = 0; j < ks.size(); ++j) {
        double d = 0;
        for (int i = 0; i < D; ++i) d += q[i] * ks[j][i];
        z[j] = d * scale;
        m = std::max(m, z[j]);
      }
      double extra = 0;  // exp of the sink logit
      if (s.variant == Variant::kSinkLogit || s.variant == Variant::kSoftmax1) {
        const double S = s.variant == Variant::kSinkLogit ? w.sinks(h) : 0.0;
        m = std::max(m, S);
        extra = std::exp(S - m);
      }
      double denom = extra;
      for (double v : z) denom += std::exp(v - m);
      std::vector<double> p(z.size());
      for (size_t j = 0; j < z.size(); ++j) {
        p[j] = std::exp(z[j] - m) / denom;
        if (s.variant == Variant::kSigmoid) {  // sigmoid(z - ln n), n = visible keys
          p[j] = 1.0 / (1.0 + std::exp(std::log(static_cast<double>(z.size())) - z[j]));
        }
        if (s.variant == Variant::kClippedSoftmax) {
          p[j] = std::min(1.0, std::max(0.0, (s.clip_zeta - s.clip_gamma) * p[j] + s.clip_gamma));
        }
      }
      double gate = 1.0;
      if (s.variant == Variant::kGated) {
        double a = w.gate_b.size() > 0 ? w.gate_b(h) : 0.0;
        for (int i = 0; i < s.d_model; ++i) a += double(x(t, i)) * w.gate_w(h, i);
        gate = 1.0 / (1.0 + std::exp(-a));
      }
      for (int i = 0; i < D; ++i) {
        double o = 0;
        for (size_t j = 0; j < p.size(); ++j) o += p[j] * vs[j][i];
        heads[t][h * D + i] = gate * o;
      }
      (void)prefix;
    }
  }
  FloatMatrix y(T, s.d_model);
  for (int64_t t = 0; t < T; ++t) {
    for (int o = 0; o < s.d_model; ++o) {
      double acc = w.bo.size() > 0 ? w.bo(o) : 0.0;
      for (int i = 0; i < H * D; ++i) acc += heads[t][i] * w.wo(o, i);
      y(t, o) = static_cast<float>(acc);
    }
  }
  return y;
}

AttentionSpec BaseSpec(int heads, int kv_heads) {
  AttentionSpec s;
  s.d_model = 24;
  s.num_heads = heads;
  s.num_kv_heads = kv_heads;
  s.head_dim = 8;
  return s;
}

double RelError(const FloatMatrix& a, const FloatMatrix& b) {
  return (a - b).norm() / std::max(1e-30f, b.norm());
}

TEST(ReferenceAttentionTest, MatchesNaiveLoopForEveryCombination) {
  const Variant variants[] = {Variant::kVanilla,  Variant::kSinkTokens,     Variant::kKvBias,
                              Variant::kSinkLogit, Variant::kSoftmax1,       Variant::kClippedSoftmax,
                              Variant::kGated,    Variant::kSigmoid};
  int cases = 0;
  for (Variant variant : variants) {
    for (MaskKind mask : {MaskKind::kCausal, MaskKind::kSliding, MaskKind::kNone}) {
      for (auto [h, kvh] : {std::pair<int, int>{4, 4}, {4, 2}, {4, 1}}) {
        for (float theta : {0.0f, 10000.0f}) {
          for (RopeLayout layout : {RopeLayout::kRotateHalf, RopeLayout::kInterleaved}) {
            if (theta == 0.0f && layout == RopeLayout::kInterleaved) continue;
            for (int64_t T : {1, 3, 9}) {  // window 4: T = 1, T < W, T > W
              AttentionSpec s = BaseSpec(h, kvh);
              s.variant = variant;
              s.mask = mask;
              s.window = 4;
              s.rope_theta = theta;
              s.rope_layout = layout;
              s.num_sink_tokens = 2;
              s.clip_zeta = 1.03f;
              s.clip_gamma = -0.03f;
              s.q_bias = s.k_bias = s.v_bias = s.o_bias = (cases % 2 == 0);
              const AttentionWeights w = RandomAttentionWeights(s, 100 + cases);
              absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(s, w);
              ASSERT_TRUE(layer.ok()) << layer.status();
              const FloatMatrix x = RandomInput(T, s.d_model, cases);
              absl::StatusOr<FloatMatrix> y = layer->Forward(x);
              ASSERT_TRUE(y.ok()) << y.status();
              const FloatMatrix want = NaiveAttention(s, w, x);
              ASSERT_LT(RelError(*y, want), 2e-5) << s.ToString() << " T=" << T;
              ++cases;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 8 * 3 * 3 * 3 * 3);
}

struct LayerRun {
  FloatMatrix y;
  AttentionIntermediates inter;
};

LayerRun Forward(const AttentionSpec& s, const AttentionWeights& w, const FloatMatrix& x) {
  LayerRun r;
  absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(s, w);
  EXPECT_TRUE(layer.ok()) << layer.status();
  absl::StatusOr<FloatMatrix> y = layer->Forward(x, &r.inter);
  EXPECT_TRUE(y.ok()) << y.status();
  r.y = *y;
  return r;
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = BaseSpec(4, 2);
    spec_.rope_theta = 10000.0f;
    spec_.mask = MaskKind::kSliding;
    spec_.window = 5;
    base_ = RandomAttentionWeights(spec_, 9);
    x_ = RandomInput(11, spec_.d_model, 3);
    vanilla_ = Forward(spec_, base_, x_);
  }
  AttentionSpec With(Variant v) const {
    AttentionSpec s = spec_;
    s.variant = v;
    return s;
  }
  AttentionSpec spec_;
  AttentionWeights base_;
  FloatMatrix x_;
  LayerRun vanilla_;
};

TEST_F(IdentityTest, SinkLogitToMinusInfinityIsVanilla) {
  AttentionWeights w = base_;
  w.sinks = FloatVector::Constant(4, -1e30f);
  EXPECT_LT(RelError(Forward(With(Variant::kSinkLogit), w, x_).y, vanilla_.y), 1e-6);
}

TEST_F(IdentityTest, SinkLogitZeroIsSoftmax1IsAZeroToken) {
  AttentionWeights w = base_;
  w.sinks = FloatVector::Zero(4);
  const LayerRun sink0 = Forward(With(Variant::kSinkLogit), w, x_);
  const LayerRun s1 = Forward(With(Variant::kSoftmax1), base_, x_);
  EXPECT_LT(RelError(sink0.y, s1.y), 1e-6);
  // A prepended key and value of zeros: KV bias with k' = v' = 0.
  AttentionWeights z = base_;
  z.k_bias = FloatMatrix::Zero(2, 8);
  z.v_bias = FloatMatrix::Zero(2, 8);
  const LayerRun zero_kv = Forward(With(Variant::kKvBias), z, x_);
  EXPECT_LT(RelError(zero_kv.y, s1.y), 1e-6);
  // The mass the sink logit absorbs equals the zero slot's probability.
  EXPECT_LT((sink0.inter.slot_mass - zero_kv.inter.slot_mass).cwiseAbs().maxCoeff(), 1e-6);
}

TEST_F(IdentityTest, ProbabilitiesAndSinkMassSumToOne) {
  for (Variant v : {Variant::kVanilla, Variant::kSinkLogit, Variant::kSoftmax1, Variant::kKvBias,
                    Variant::kSinkTokens, Variant::kGated}) {
    AttentionSpec s = With(v);
    s.num_sink_tokens = 3;
    const AttentionWeights w = RandomAttentionWeights(s, 21);
    const LayerRun r = Forward(s, w, x_);
    const bool outside = v == Variant::kSinkLogit || v == Variant::kSoftmax1;
    for (int h = 0; h < 4; ++h) {
      for (int64_t t = 0; t < x_.rows(); ++t) {
        const double row = r.inter.probs[h].row(t).cast<double>().sum();
        const double total = row + (outside ? r.inter.slot_mass(h, t) : 0.0);
        ASSERT_NEAR(total, 1.0, 1e-5) << VariantName(v) << " h" << h << " t" << t;
      }
    }
    if (v == Variant::kSinkLogit || v == Variant::kKvBias || v == Variant::kSinkTokens) {
      EXPECT_GT(r.inter.slot_mass.maxCoeff(), 0.0f) << VariantName(v);
    }
  }
}

TEST_F(IdentityTest, ClippedSoftmaxWithZetaOneGammaZeroIsVanilla) {
  AttentionSpec s = With(Variant::kClippedSoftmax);
  s.clip_zeta = 1.0f;
  s.clip_gamma = 0.0f;
  EXPECT_LT(RelError(Forward(s, base_, x_).y, vanilla_.y), 1e-6);
  // With gamma < 0 small probabilities become exactly 0 (the point of the method).
  s.clip_zeta = 1.0f;
  s.clip_gamma = -0.05f;
  const LayerRun r = Forward(s, base_, x_);
  int zeros = 0;
  for (const FloatMatrix& p : r.inter.probs) zeros += (p.array() == 0.0f).count();
  EXPECT_GT(zeros, 0);
}

TEST_F(IdentityTest, GateOfOneIsVanilla) {
  AttentionWeights w = base_;
  w.gate_w = FloatMatrix::Zero(4, spec_.d_model);
  w.gate_b = FloatVector::Constant(4, 1e4f);  // sigmoid -> 1
  EXPECT_LT(RelError(Forward(With(Variant::kGated), w, x_).y, vanilla_.y), 1e-6);
}

// Sigmoid attention by its closed forms: with Q = 0 every logit is 0, so each visible weight is
// sigmoid(-ln n) = 1 / (1 + n) and a row sums to n / (n + 1) (causal: n = t + 1; sliding W:
// min(t + 1, W)), not to 1; the output is the mean of the visible values times n / (n + 1).
TEST_F(IdentityTest, SigmoidOfEqualLogitsIsOneOverOnePlusN) {
  AttentionWeights w = base_;
  w.wq.setZero();
  const LayerRun r = Forward(With(Variant::kSigmoid), w, x_);
  const LayerRun v = Forward(spec_, w, x_);  // vanilla: the mean of the visible values
  for (int h = 0; h < 4; ++h) {
    for (int64_t t = 0; t < x_.rows(); ++t) {
      const int64_t n = std::min<int64_t>(t + 1, spec_.window);
      for (int64_t j = 0; j < x_.rows(); ++j) {
        const bool visible = j <= t && t - spec_.window < j;
        ASSERT_NEAR(r.inter.probs[h](t, j), visible ? 1.0 / (1.0 + n) : 0.0, 1e-6)
            << "h" << h << " t" << t << " j" << j;
      }
      ASSERT_NEAR(r.inter.probs[h].row(t).sum(), double(n) / (n + 1), 1e-5);
      ASSERT_EQ(r.inter.slot_mass(h, t), 0.0f);
    }
  }
  // Per head the output before o_proj is n / (n + 1) times vanilla's (uniform) output.
  for (int64_t t = 0; t < x_.rows(); ++t) {
    const double n = std::min<int64_t>(t + 1, spec_.window);
    for (int64_t c = 0; c < r.inter.heads.cols(); ++c) {
      ASSERT_NEAR(r.inter.heads(t, c), n / (n + 1) * v.inter.heads(t, c), 1e-5);
    }
  }
}

// Large logits saturate at 1 (not normalized away): one key far above the rest gets ~1 whatever
// the others get, and every weight stays in [0, 1].
TEST_F(IdentityTest, SigmoidWeightsAreInZeroOneAndNeedNotSumToOne) {
  AttentionWeights w = base_;
  w.wq *= 30.0f;
  const LayerRun r = Forward(With(Variant::kSigmoid), w, x_);
  double max_row = 0.0;
  for (int h = 0; h < 4; ++h) {
    ASSERT_GE(r.inter.probs[h].minCoeff(), 0.0f);
    ASSERT_LE(r.inter.probs[h].maxCoeff(), 1.0f);
    for (int64_t t = 0; t < x_.rows(); ++t) {
      max_row = std::max<double>(max_row, r.inter.probs[h].row(t).sum());
    }
  }
  EXPECT_GT(max_row, 1.05);  // some row carries more than one unit of weight
}

TEST(ReferenceAttentionTest, QueryBlocksDoNotChangeTheResult) {
  for (Variant v : {Variant::kVanilla, Variant::kSinkTokens, Variant::kKvBias, Variant::kGated,
                    Variant::kSigmoid}) {
    for (MaskKind mask : {MaskKind::kCausal, MaskKind::kSliding, MaskKind::kNone}) {
      AttentionSpec s = BaseSpec(4, 2);
      s.variant = v;
      s.mask = mask;
      s.window = 6;
      s.num_sink_tokens = 2;
      s.rope_theta = 10000.0f;
      const AttentionWeights w = RandomAttentionWeights(s, 31);
      const FloatMatrix x = RandomInput(37, s.d_model, 32);
      EigenBackend backend(w);
      AttentionIntermediates whole, blocked;
      absl::StatusOr<FloatMatrix> a = RunAttentionLayer(s, w, backend, x, &whole);
      absl::StatusOr<FloatMatrix> b = RunAttentionLayer(s, w, backend, x, &blocked, 5);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_LT(RelError(*b, *a), 1e-6) << s.ToString();
      for (int h = 0; h < 4; ++h) {
        EXPECT_LT((blocked.probs[h] - whole.probs[h]).cwiseAbs().maxCoeff(), 1e-6);
      }
      EXPECT_LT((blocked.slot_mass - whole.slot_mass).cwiseAbs().maxCoeff(), 1e-6);
      EXPECT_LT(RelError(*a, NaiveAttention(s, w, x)), 2e-5);
    }
  }
}

TEST(ReferenceAttentionErrorsTest, BadSpecsWeightsAndInputs) {
  AttentionSpec s = BaseSpec(4, 3);
  EXPECT_FALSE(ReferenceAttention::Create(s, AttentionWeights{}).ok());  // 4 % 3 != 0
  s = BaseSpec(4, 2);
  AttentionWeights w = RandomAttentionWeights(s, 1);
  w.wk.resize(5, 24);
  absl::StatusOr<ReferenceAttention> bad = ReferenceAttention::Create(s, w);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("k_proj.weight"), std::string::npos);
  s.variant = Variant::kSinkLogit;
  bad = ReferenceAttention::Create(s, RandomAttentionWeights(BaseSpec(4, 2), 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sinks"), std::string::npos);
  absl::StatusOr<ReferenceAttention> ok = ReferenceAttention::Create(BaseSpec(4, 2), RandomAttentionWeights(BaseSpec(4, 2), 1));
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->Forward(RandomInput(3, 23, 1)).ok());
  FloatMatrix nan = RandomInput(3, 24, 1);
  nan(1, 1) = NAN;
  EXPECT_FALSE(ok->Forward(nan).ok());
}

}  // namespace
}  // namespace sinkscope::attention
