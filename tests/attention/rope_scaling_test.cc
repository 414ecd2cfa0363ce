// RoPE scaling (rope_scaling.h, rope.h) against an oracle written here in double from the
// formulas (transformers' _compute_yarn_parameters / _compute_llama3_parameters semantics, see
// rope_scaling.h), with naive loops: the inverse frequencies and attention factor of linear,
// yarn (truncate true and false, explicit attention_factor, mscale) and llama3; hand-computed
// band boundaries for the released gpt-oss and Llama 3.1 parameters; rotated vectors at far
// positions; no scaling bit-identical to the pre-scaling computation; ReferenceAttention,
// StreamingAttention (with and without eviction) and Int8Attention with scaled RoPE against a
// naive double attention; invalid parameters are errors naming the parameter.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attention/int8_attention.h"
#include "attention/reference_attention.h"
#include "attention/rope.h"
#include "attention/rope_scaling.h"
#include "attention/streaming_kv_cache.h"
#include "gtest/gtest.h"

namespace sinkscope::attention {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------- the oracle (double)

struct OracleRope {
  std::vector<double> inv_freq;
  double attention_factor = 1.0;
};

double OracleMscale(double scale, double m) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * m * std::log(scale) + 1.0;
}

OracleRope Oracle(int D, double theta, const RopeScaling& s) {
  OracleRope o;
  const double L = static_cast<double>(s.original_max_position_embeddings);
  // YaRN: the (fractional) pair index at which a wavelength fits `r` turns into L positions.
  const auto pair_for_rotations = [&](double r) {
    return D * std::log(L / (r * 2.0 * kPi)) / (2.0 * std::log(theta));
  };
  double lo = 0.0, hi = 0.0;
  if (s.type == RopeScalingType::kYarn) {
    lo = pair_for_rotations(s.beta_fast);
    hi = pair_for_rotations(s.beta_slow);
    if (s.truncate) {
      lo = std::floor(lo);
      hi = std::ceil(hi);
    }
    if (lo < 0.0) lo = 0.0;
    if (hi > D - 1.0) hi = D - 1.0;
    if (hi == lo) hi = lo + 0.001;
  }
  for (int i = 0; i < D / 2; ++i) {
    const double f = 1.0 / std::pow(theta, 2.0 * i / D);
    double inv = f;
    if (s.type == RopeScalingType::kLinear) {
      inv = f / s.factor;
    } else if (s.type == RopeScalingType::kYarn) {
      double ramp = (i - lo) / (hi - lo);
      ramp = std::min(1.0, std::max(0.0, ramp));
      const double extrapolate = 1.0 - ramp;  // weight of the unscaled frequency
      inv = (f / s.factor) * (1.0 - extrapolate) + f * extrapolate;
    } else if (s.type == RopeScalingType::kLlama3) {
      const double wavelen = 2.0 * kPi / f;
      if (wavelen < L / s.high_freq_factor) {
        inv = f;
      } else if (wavelen > L / s.low_freq_factor) {
        inv = f / s.factor;
      } else {
        const double t =
            (L / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        inv = (1.0 - t) * (f / s.factor) + t * f;
      }
    }
    o.inv_freq.push_back(inv);
  }
  if (s.type == RopeScalingType::kYarn) {
    if (s.attention_factor > 0.0) {
      o.attention_factor = s.attention_factor;
    } else if (s.mscale > 0.0 && s.mscale_all_dim > 0.0) {
      o.attention_factor =
          OracleMscale(s.factor, s.mscale) / OracleMscale(s.factor, s.mscale_all_dim);
    } else {
      o.attention_factor = OracleMscale(s.factor, 1.0);
    }
  }
  return o;
}

// One head vector rotated at `pos` by definition (A cos, A sin), in double.
std::vector<double> OracleRotate(const std::vector<double>& v, int64_t pos, const OracleRope& o,
                                 RopeLayout layout) {
  const int D = static_cast<int>(v.size());
  std::vector<double> out = v;
  for (int i = 0; i < D / 2; ++i) {
    const double angle = static_cast<double>(pos) * o.inv_freq[i];
    const double c = o.attention_factor * std::cos(angle);
    const double s = o.attention_factor * std::sin(angle);
    const int a = layout == RopeLayout::kInterleaved ? 2 * i : i;
    const int b = layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + D / 2;
    out[a] = v[a] * c - v[b] * s;
    out[b] = v[a] * s + v[b] * c;
  }
  return out;
}

// ---------------------------------------------------------------- cases

RopeScaling Linear(double factor) {
  RopeScaling s;
  s.type = RopeScalingType::kLinear;
  s.factor = factor;
  return s;
}

// The released gpt-oss configs: factor 32, beta 32 / 1, L 4096, truncate false.
RopeScaling GptOssYarn() {
  RopeScaling s;
  s.type = RopeScalingType::kYarn;
  s.factor = 32.0;
  s.beta_fast = 32.0;
  s.beta_slow = 1.0;
  s.original_max_position_embeddings = 4096;
  s.truncate = false;
  return s;
}

RopeScaling Yarn(double factor, int64_t L, bool truncate) {
  RopeScaling s = GptOssYarn();
  s.factor = factor;
  s.original_max_position_embeddings = L;
  s.truncate = truncate;
  return s;
}

// Llama 3.1 / 3.2: factor 8, low / high 1 / 4, L 8192.
RopeScaling Llama3(int64_t L = 8192) {
  RopeScaling s;
  s.type = RopeScalingType::kLlama3;
  s.factor = 8.0;
  s.low_freq_factor = 1.0;
  s.high_freq_factor = 4.0;
  s.original_max_position_embeddings = L;
  return s;
}

struct FreqCase {
  std::string name;
  int head_dim;
  double theta;
  RopeScaling scaling;
};

std::vector<FreqCase> FreqCases() {
  std::vector<FreqCase> c;
  c.push_back({"none_d64", 64, 10000.0, RopeScaling{}});
  c.push_back({"linear4_d64", 64, 10000.0, Linear(4.0)});
  c.push_back({"yarn_gpt_oss_d64", 64, 150000.0, GptOssYarn()});
  c.push_back({"yarn_truncate_d64", 64, 150000.0, Yarn(32.0, 4096, true)});
  c.push_back({"yarn_truncate_d128_l8192", 128, 10000.0, Yarn(4.0, 8192, true)});
  c.push_back({"yarn_no_truncate_d16_l64", 16, 10000.0, Yarn(8.0, 64, false)});
  RopeScaling explicit_factor = Yarn(16.0, 2048, true);
  explicit_factor.attention_factor = 1.25;
  c.push_back({"yarn_attention_factor", 32, 10000.0, explicit_factor});
  RopeScaling mscale = Yarn(40.0, 4096, true);
  mscale.mscale = 0.707;
  mscale.mscale_all_dim = 1.0;
  c.push_back({"yarn_mscale", 64, 10000.0, mscale});
  RopeScaling mscale_alone = Yarn(40.0, 4096, true);
  mscale_alone.mscale = 0.707;  // without mscale_all_dim: ignored
  c.push_back({"yarn_mscale_alone", 64, 10000.0, mscale_alone});
  RopeScaling beta = Yarn(8.0, 1024, false);
  beta.beta_fast = 16.0;
  beta.beta_slow = 2.0;
  c.push_back({"yarn_betas", 32, 50000.0, beta});
  c.push_back({"yarn_factor_1", 16, 10000.0, Yarn(1.0, 64, true)});
  c.push_back({"llama3_1_d128", 128, 500000.0, Llama3()});
  c.push_back({"llama3_d16", 16, 10000.0, Llama3()});
  c.push_back({"llama3_d16_l64", 16, 10000.0, Llama3(64)});
  return c;
}

// ---------------------------------------------------------------- frequencies

TEST(RopeScalingTest, InverseFrequenciesMatchOracle) {
  for (const FreqCase& c : FreqCases()) {
    ASSERT_TRUE(ValidateRopeScaling(c.scaling).ok()) << c.name;
    const RopeFrequencies got = ComputeRopeFrequencies(c.head_dim, c.theta, c.scaling);
    const OracleRope want = Oracle(c.head_dim, c.theta, c.scaling);
    ASSERT_EQ(got.inv_freq.size(), static_cast<size_t>(c.head_dim / 2)) << c.name;
    for (int i = 0; i < c.head_dim / 2; ++i) {
      EXPECT_NEAR(got.inv_freq[i], want.inv_freq[i], 1e-12 * want.inv_freq[i])
          << c.name << " pair " << i;
    }
    EXPECT_NEAR(got.attention_factor, want.attention_factor, 1e-12) << c.name;
  }
}

TEST(RopeScalingTest, NoScalingIsThetaPowersExactly) {
  for (int D : {2, 8, 64, 128}) {
    for (double theta : {10000.0, 150000.0, 500000.0, 1000000.0}) {
      const RopeFrequencies f = ComputeRopeFrequencies(D, theta, RopeScaling{});
      EXPECT_EQ(f.attention_factor, 1.0);
      for (int i = 0; i < D / 2; ++i) EXPECT_EQ(f.inv_freq[i], std::pow(theta, -2.0 * i / D));
    }
  }
}

// Band boundaries computed by hand for the released gpt-oss parameters (D 64, theta 150000):
// corr(beta) = 32 ln(4096 / (2 pi beta)) / ln(150000): corr(32) = 8.09, corr(1) = 17.40.
// truncate false: pairs <= 8 unscaled, >= 18 divided by 32, 9..17 strictly between.
// truncate true: low 8, high 18, so pair 13 sits at ramp 1/2 exactly.
TEST(RopeScalingTest, YarnBandsOfTheGptOssConfig) {
  const double theta = 150000.0;
  const RopeFrequencies f = ComputeRopeFrequencies(64, theta, GptOssYarn());
  EXPECT_NEAR(f.attention_factor, 1.0 + 0.1 * std::log(32.0), 1e-12);
  EXPECT_NEAR(f.attention_factor, 1.3465736, 1e-7);
  for (int i = 0; i < 32; ++i) {
    const double base = std::pow(theta, -2.0 * i / 64);
    if (i <= 8) {
      EXPECT_NEAR(f.inv_freq[i], base, 1e-15) << i;
    } else if (i >= 18) {
      EXPECT_NEAR(f.inv_freq[i], base / 32.0, 1e-12 * base) << i;
    } else {
      EXPECT_LT(f.inv_freq[i], base * (1 - 1e-9)) << i;
      EXPECT_GT(f.inv_freq[i], base / 32.0 * (1 + 1e-9)) << i;
    }
  }
  // Pair 9 at ramp (9 - 8.093) / (17.398 - 8.093) = 0.0975 (computed by hand, 3 digits).
  const double base9 = std::pow(theta, -18.0 / 64);
  const double ramp9 = (base9 - f.inv_freq[9]) / (base9 - base9 / 32.0);
  EXPECT_NEAR(ramp9, 0.0975, 2e-3);

  const RopeFrequencies t = ComputeRopeFrequencies(64, theta, Yarn(32.0, 4096, true));
  const double base13 = std::pow(theta, -26.0 / 64);
  EXPECT_NEAR(t.inv_freq[13], 0.5 * (base13 + base13 / 32.0), 1e-12 * base13);
  const double ramp9_truncated = (base9 - t.inv_freq[9]) / (base9 - base9 / 32.0);
  EXPECT_NEAR(ramp9_truncated, 0.1, 1e-9);  // (9 - 8) / (18 - 8)
  EXPECT_NEAR(t.inv_freq[8], std::pow(theta, -16.0 / 64), 1e-15);
  EXPECT_NEAR(t.inv_freq[18], std::pow(theta, -36.0 / 64) / 32.0, 1e-15);
}

// Llama 3.1 (D 128, theta 500000, L 8192, factors 1 / 4): wavelength 2 pi 500000^(i/64) is below
// 8192 / 4 = 2048 for i <= 28 and above 8192 for i >= 35 (by hand: i < 28.2, i > 34.98).
TEST(RopeScalingTest, Llama3BandsOfTheLlama31Config) {
  const double theta = 500000.0;
  const RopeFrequencies f = ComputeRopeFrequencies(128, theta, Llama3());
  EXPECT_EQ(f.attention_factor, 1.0);
  int high = 0, low = 0, medium = 0;
  for (int i = 0; i < 64; ++i) {
    const double base = std::pow(theta, -2.0 * i / 128);
    if (std::abs(f.inv_freq[i] - base) <= 1e-15 * base) {
      ++high;
      EXPECT_LE(i, 28);
    } else if (std::abs(f.inv_freq[i] - base / 8.0) <= 1e-12 * base) {
      ++low;
      EXPECT_GE(i, 35);
    } else {
      ++medium;
      EXPECT_LT(f.inv_freq[i], base);
      EXPECT_GT(f.inv_freq[i], base / 8.0);
    }
  }
  EXPECT_EQ(high, 29);
  EXPECT_EQ(medium, 6);
  EXPECT_EQ(low, 29);
}

TEST(RopeScalingTest, LinearDividesEveryFrequency) {
  const RopeFrequencies f = ComputeRopeFrequencies(32, 10000.0, Linear(4.0));
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(f.inv_freq[i] * 4.0, std::pow(10000.0, -2.0 * i / 32), 1e-15);
  }
  EXPECT_EQ(f.attention_factor, 1.0);
}

// ---------------------------------------------------------------- rotations

TEST(RopeScalingTest, RotatedVectorsMatchOracle) {
  const std::vector<int64_t> positions = {0, 1, 7, 100, 4095, 4096, 70000, 131071};
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (const FreqCase& c : FreqCases()) {
    for (RopeLayout layout : {RopeLayout::kRotateHalf, RopeLayout::kInterleaved}) {
      AttentionSpec s;
      s.d_model = 8;
      s.num_heads = 3;
      s.num_kv_heads = 3;
      s.head_dim = c.head_dim;
      s.rope_theta = static_cast<float>(c.theta);
      s.rope_layout = layout;
      s.rope_scaling = c.scaling;
      ASSERT_TRUE(ValidateSpec(s).ok()) << c.name << ": " << ValidateSpec(s);
      const int D = c.head_dim, H = s.num_heads;
      FloatMatrix x(static_cast<int64_t>(positions.size()), int64_t{H} * D);
      for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
      FloatMatrix y = x;
      const RopeFrequencies freq = RopeInverseFrequencies(s);
      ApplyRope(&y, positions, H, D, freq, layout);
      const OracleRope o = Oracle(D, double{s.rope_theta}, c.scaling);
      for (size_t r = 0; r < positions.size(); ++r) {
        for (int h = 0; h < H; ++h) {
          std::vector<double> v(D);
          for (int i = 0; i < D; ++i) v[i] = x(r, int64_t{h} * D + i);
          const std::vector<double> want = OracleRotate(v, positions[r], o, layout);
          std::vector<float> single(v.begin(), v.end());
          ApplyRopeToVector(single.data(), positions[r], freq, layout);
          for (int i = 0; i < D; ++i) {
            // float inputs and cos/sin; the angle itself is exact in double.
            EXPECT_NEAR(y(r, int64_t{h} * D + i), want[i], 4e-6 * (1 + std::abs(want[i])))
                << c.name << " " << RopeLayoutName(layout) << " pos " << positions[r] << " i "
                << i;
            EXPECT_EQ(single[i], y(r, int64_t{h} * D + i));
          }
        }
      }
    }
  }
}

// Without scaling the rotation is bit-identical to the computation before scaling existed:
// cos / sin of pos * theta^(-2i/D) in double, rounded to float, then the float rotation.
TEST(RopeScalingTest, NoScalingRotationIsUnchanged) {
  std::mt19937 rng(8);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (RopeLayout layout : {RopeLayout::kRotateHalf, RopeLayout::kInterleaved}) {
    for (float theta : {10000.0f, 150000.0f, 500000.0f}) {
      const int D = 64;
      AttentionSpec s;
      s.head_dim = D;
      s.rope_theta = theta;
      for (int64_t pos : {0, 3, 4097, 65000, 200000}) {
        std::vector<float> v(D);
        for (float& e : v) e = n(rng);
        std::vector<float> want = v;
        for (int i = 0; i < D / 2; ++i) {
          const double angle = static_cast<double>(pos) *
                               std::pow(static_cast<double>(theta), -2.0 * i / D);
          const float c = static_cast<float>(std::cos(angle));
          const float sn = static_cast<float>(std::sin(angle));
          const int a = layout == RopeLayout::kInterleaved ? 2 * i : i;
          const int b = layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + D / 2;
          const float xa = v[a], xb = v[b];
          want[a] = xa * c - xb * sn;
          want[b] = xa * sn + xb * c;
        }
        ApplyRopeToVector(v.data(), pos, RopeInverseFrequencies(s), layout);
        for (int i = 0; i < D; ++i) EXPECT_EQ(v[i], want[i]) << pos << " " << i;
      }
    }
  }
}

// ---------------------------------------------------------------- attention layers

FloatMatrix RandomInput(int64_t T, int d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(T, d);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

std::vector<double> Proj(const FloatMatrix& x, int64_t r, const FloatMatrix& w,
                         const FloatVector& b, int64_t off, int D) {
  std::vector<double> out(D);
  for (int o = 0; o < D; ++o) {
    double acc = b.size() > 0 ? b(off + o) : 0.0;
    for (int64_t i = 0; i < x.cols(); ++i) acc += double{x(r, i)} * w(off + o, i);
    out[o] = acc;
  }
  return out;
}

// Vanilla softmax attention of query row t at position q_pos over key rows at key_pos, output
// [d_model] after o_proj; RoPE from the oracle.
std::vector<double> NaiveQuery(const AttentionSpec& s, const OracleRope& o,
                               const AttentionWeights& w, const FloatMatrix& x, int64_t t,
                               int64_t q_pos, const std::vector<int64_t>& key_rows,
                               const std::vector<int64_t>& key_pos) {
  const int H = s.num_heads, D = s.head_dim, G = s.num_heads / s.num_kv_heads;
  std::vector<double> heads(int64_t{H} * D, 0.0);
  for (int h = 0; h < H; ++h) {
    const int g = h / G;
    const std::vector<double> q =
        OracleRotate(Proj(x, t, w.wq, w.bq, int64_t{h} * D, D), q_pos, o, s.rope_layout);
    std::vector<double> z(key_rows.size());
    double m = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < key_rows.size(); ++j) {
      const std::vector<double> k = OracleRotate(
          Proj(x, key_rows[j], w.wk, w.bk, int64_t{g} * D, D), key_pos[j], o, s.rope_layout);
      double dot = 0.0;
      for (int i = 0; i < D; ++i) dot += q[i] * k[i];
      z[j] = dot / std::sqrt(static_cast<double>(D));
      m = std::max(m, z[j]);
    }
    double den = 0.0;
    for (double zj : z) den += std::exp(zj - m);
    for (size_t j = 0; j < key_rows.size(); ++j) {
      const std::vector<double> v = Proj(x, key_rows[j], w.wv, w.bv, int64_t{g} * D, D);
      const double p = std::exp(z[j] - m) / den;
      for (int i = 0; i < D; ++i) heads[int64_t{h} * D + i] += p * v[i];
    }
  }
  std::vector<double> y(s.d_model);
  for (int out = 0; out < s.d_model; ++out) {
    double acc = w.bo.size() > 0 ? w.bo(out) : 0.0;
    for (int64_t i = 0; i < int64_t{H} * D; ++i) acc += heads[i] * w.wo(out, i);
    y[out] = acc;
  }
  return y;
}

// The causal layer: row t attends to rows 0..t at their own positions.
std::vector<std::vector<double>> NaiveCausal(const AttentionSpec& s, const OracleRope& o,
                                             const AttentionWeights& w, const FloatMatrix& x) {
  std::vector<std::vector<double>> y;
  for (int64_t t = 0; t < x.rows(); ++t) {
    std::vector<int64_t> rows;
    for (int64_t j = 0; j <= t; ++j) rows.push_back(j);
    y.push_back(NaiveQuery(s, o, w, x, t, t, rows, rows));
  }
  return y;
}

double MaxRelError(const FloatMatrix& got, const std::vector<std::vector<double>>& want) {
  double err = 0.0, ref = 0.0;
  for (size_t t = 0; t < want.size(); ++t) {
    for (size_t i = 0; i < want[t].size(); ++i) {
      err = std::max(err, std::abs(got(t, i) - want[t][i]));
      ref = std::max(ref, std::abs(want[t][i]));
    }
  }
  return err / ref;
}

AttentionSpec LayerSpec(const RopeScaling& scaling, RopeLayout layout) {
  AttentionSpec s;
  s.d_model = 32;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 16;
  s.q_bias = s.k_bias = s.v_bias = s.o_bias = true;
  s.rope_theta = 10000.0f;
  s.rope_layout = layout;
  s.rope_scaling = scaling;
  return s;
}

// Short contexts (L 64) so that the scaling changes the layer within 12 tokens.
std::vector<std::pair<std::string, RopeScaling>> LayerScalings() {
  return {{"linear4", Linear(4.0)},
          {"yarn_truncate", Yarn(32.0, 64, true)},
          {"yarn_no_truncate", Yarn(32.0, 64, false)},
          {"llama3_l64", Llama3(64)}};
}

TEST(RopeScalingLayerTest, ReferenceAttentionMatchesNaive) {
  int seed = 0;
  for (const auto& [name, scaling] : LayerScalings()) {
    for (RopeLayout layout : {RopeLayout::kRotateHalf, RopeLayout::kInterleaved}) {
      const AttentionSpec s = LayerSpec(scaling, layout);
      const AttentionWeights w = RandomAttentionWeights(s, 40 + seed);
      const FloatMatrix x = RandomInput(12, s.d_model, 60 + seed++);
      absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(s, w);
      ASSERT_TRUE(layer.ok()) << layer.status();
      absl::StatusOr<FloatMatrix> y = layer->Forward(x);
      ASSERT_TRUE(y.ok()) << y.status();
      const OracleRope o = Oracle(s.head_dim, double{s.rope_theta}, scaling);
      EXPECT_LT(MaxRelError(*y, NaiveCausal(s, o, w, x)), 2e-5) << name << " " << s.ToString();
      // The scaling matters here: the unscaled oracle is far off.
      const OracleRope plain = Oracle(s.head_dim, double{s.rope_theta}, RopeScaling{});
      EXPECT_GT(MaxRelError(*y, NaiveCausal(s, plain, w, x)), 1e-3) << name;
    }
  }
}

TEST(RopeScalingLayerTest, StreamingMatchesNaiveWithAndWithoutEviction) {
  int seed = 0;
  for (const auto& [name, scaling] : LayerScalings()) {
    for (CachePositions mode : {CachePositions::kWithinCache, CachePositions::kOriginal}) {
      for (int window : {16, 4}) {  // 16: nothing evicted; 4 (+ 2 sinks): evictions
        const AttentionSpec s = LayerSpec(scaling, RopeLayout::kRotateHalf);
        const AttentionWeights w = RandomAttentionWeights(s, 80 + seed);
        const FloatMatrix x = RandomInput(12, s.d_model, 90 + seed++);
        const int n_sink = window == 16 ? 0 : 2;
        absl::StatusOr<StreamingAttention> layer =
            StreamingAttention::Create(s, w, n_sink, window, mode);
        ASSERT_TRUE(layer.ok()) << layer.status();
        const OracleRope o = Oracle(s.head_dim, double{s.rope_theta}, scaling);
        for (int64_t t = 0; t < x.rows(); ++t) {
          absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
          ASSERT_TRUE(y.ok()) << y.status();
          // Kept: the first n_sink tokens and the last `window` (t included).
          std::vector<int64_t> rows;
          for (int64_t j = 0; j <= t; ++j) {
            if (j < n_sink || t - j < window) rows.push_back(j);
          }
          std::vector<int64_t> pos = rows;
          int64_t q_pos = t;
          if (mode == CachePositions::kWithinCache) {
            for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int64_t>(i);
            q_pos = static_cast<int64_t>(pos.size()) - 1;
          }
          const std::vector<double> want = NaiveQuery(s, o, w, x, t, q_pos, rows, pos);
          FloatMatrix got(1, s.d_model);
          got.row(0) = *y;
          EXPECT_LT(MaxRelError(got, {want}), 2e-5)
              << name << " " << CachePositionsName(mode) << " window " << window << " t " << t;
        }
      }
    }
  }
}

// Int8Attention runs the same scaled RoPE: its output is close to the scaled oracle and far
// from the unscaled one.
TEST(RopeScalingLayerTest, Int8AttentionUsesTheScaling) {
  const AttentionSpec s = LayerSpec(Yarn(32.0, 64, false), RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(s, 7);
  const FloatMatrix x = RandomInput(12, s.d_model, 8);
  absl::StatusOr<Int8Attention> layer = Int8Attention::Create(s, w);
  ASSERT_TRUE(layer.ok()) << layer.status();
  absl::StatusOr<FloatMatrix> y = layer->Forward(x);
  ASSERT_TRUE(y.ok()) << y.status();
  const double scaled = MaxRelError(*y, NaiveCausal(s, Oracle(16, 10000.0, s.rope_scaling), w, x));
  const double plain = MaxRelError(*y, NaiveCausal(s, Oracle(16, 10000.0, RopeScaling{}), w, x));
  EXPECT_LT(scaled, 0.05);
  EXPECT_GT(plain, 5 * scaled) << "scaled " << scaled << " plain " << plain;
}

// ---------------------------------------------------------------- errors

void ExpectSpecError(const RopeScaling& scaling, const std::string& fragment,
                     float theta = 10000.0f) {
  AttentionSpec s = LayerSpec(scaling, RopeLayout::kRotateHalf);
  s.rope_theta = theta;
  const absl::Status st = ValidateSpec(s);
  ASSERT_FALSE(st.ok()) << scaling.ToString();
  EXPECT_NE(std::string(st.message()).find(fragment), std::string::npos)
      << st << " should mention " << fragment;
}

TEST(RopeScalingTest, InvalidParametersAreErrors) {
  ExpectSpecError(Linear(0.5), "factor must be finite and >= 1, got 0.5");
  ExpectSpecError(Linear(std::numeric_limits<double>::quiet_NaN()), "factor");
  RopeScaling y = GptOssYarn();
  y.beta_fast = 0.5;
  ExpectSpecError(y, "beta_fast (0.5) must be >= beta_slow (1)");
  y = GptOssYarn();
  y.beta_slow = 0.0;
  ExpectSpecError(y, "beta_fast and beta_slow must be positive");
  y = GptOssYarn();
  y.original_max_position_embeddings = 0;
  ExpectSpecError(y, "rope scaling yarn: original_max_position_embeddings must be positive");
  y = GptOssYarn();
  y.attention_factor = -1.0;
  ExpectSpecError(y, "attention_factor");
  y = GptOssYarn();
  y.mscale = std::numeric_limits<double>::infinity();
  ExpectSpecError(y, "mscale");
  ExpectSpecError(GptOssYarn(), "yarn RoPE scaling needs rope_theta > 1", 1.0f);
  RopeScaling l = Llama3();
  l.high_freq_factor = 1.0;
  ExpectSpecError(l, "rope scaling llama3: needs 0 < low_freq_factor < high_freq_factor");
  l = Llama3();
  l.original_max_position_embeddings = -5;
  ExpectSpecError(l, "original_max_position_embeddings must be positive, got -5");
  RopeScaling lin = Linear(2.0);
  lin.attention_factor = 1.2;
  ExpectSpecError(lin, "apply to yarn only");
  ExpectSpecError(Linear(2.0), "without RoPE (rope_theta 0)", 0.0f);

  EXPECT_EQ(*ParseRopeScalingType("default"), RopeScalingType::kNone);
  EXPECT_EQ(*ParseRopeScalingType("yarn"), RopeScalingType::kYarn);
  EXPECT_EQ(*ParseRopeScalingType("llama3"), RopeScalingType::kLlama3);
  const absl::Status st = ParseRopeScalingType("dynamic").status();
  EXPECT_NE(std::string(st.message()).find("'dynamic' (supported: none / default, linear, yarn, "
                                           "llama3)"),
            std::string::npos)
      << st;
}

TEST(RopeScalingTest, SpecToStringNamesTheScaling) {
  const AttentionSpec s = LayerSpec(GptOssYarn(), RopeLayout::kRotateHalf);
  EXPECT_NE(s.ToString().find("scaling yarn(factor 32, beta 32/1, L 4096"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(LayerSpec(RopeScaling{}, RopeLayout::kRotateHalf).ToString().find("scaling"),
            std::string::npos);
}

}  // namespace
}  // namespace sinkscope::attention
