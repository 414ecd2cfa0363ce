// P's quantization in the int8 attention layer (ProbScheme: per_row, fixed, fp32), against a
// float64 fake-quant simulation of the whole int8 layer written here with plain loops from the
// documented semantics (int8_attention.h), independent of the library's quantizers, GEMMs and
// layer code. And the property users rely on: with diffuse attention over long contexts (T >= 256)
// and spread V norms, a finer K / V granularity is never worse than the coarser one.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "attention/int8_attention.h"
#include "attention/reference_attention.h"
#include "gtest/gtest.h"
#include "quant/quant_scheme.h"

namespace sinkscope::attention {
namespace {

using quant::QuantScheme;

// ---------------------------------------------------------------------------------------------
// The simulation: row-major double matrices and plain loops.
struct Mat {
  int64_t rows = 0, cols = 0;
  std::vector<double> a;
  Mat() = default;
  Mat(int64_t r, int64_t c) : rows(r), cols(c), a(r * c, 0.0) {}
  double& operator()(int64_t r, int64_t c) { return a[r * cols + c]; }
  double operator()(int64_t r, int64_t c) const { return a[r * cols + c]; }
};

Mat FromFloat(const FloatMatrix& m) {
  Mat out(m.rows(), m.cols());
  for (int64_t r = 0; r < m.rows(); ++r)
    for (int64_t c = 0; c < m.cols(); ++c) out(r, c) = m(r, c);
  return out;
}

// Round half to even (the default floating-point rounding mode).
double Round(double x) { return std::nearbyint(x); }

// How a simulated operand is grouped: one scale for the whole matrix, per row or per column.
enum class Group { kTensor, kRow, kColumn };

// Symmetric b-bit fake quantization: scale = max|x| / (2^(b-1) - 1) per group, codes rounded
// half to even and clamped. Returns the codes; scales per row / column (one for kTensor).
struct SymCodes {
  Mat codes;
  std::vector<double> scales;
  double scale(int64_t r, int64_t c, Group g) const {
    return g == Group::kTensor ? scales[0] : (g == Group::kRow ? scales[r] : scales[c]);
  }
};

SymCodes QuantSym(const Mat& m, Group g, int bits) {
  const double qmax = (1 << (bits - 1)) - 1;
  SymCodes q;
  q.codes = Mat(m.rows, m.cols);
  const int64_t n = g == Group::kTensor ? 1 : (g == Group::kRow ? m.rows : m.cols);
  std::vector<double> amax(n, 0.0);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      const int64_t i = g == Group::kTensor ? 0 : (g == Group::kRow ? r : c);
      amax[i] = std::max(amax[i], std::fabs(m(r, c)));
    }
  q.scales.resize(n);
  for (int64_t i = 0; i < n; ++i) q.scales[i] = amax[i] > 0 ? amax[i] / qmax : 1.0;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      q.codes(r, c) = std::clamp(Round(m(r, c) / q.scale(r, c, g)), -qmax, qmax);
    }
  return q;
}

Mat Dequant(const SymCodes& q, Group g) {
  Mat out(q.codes.rows, q.codes.cols);
  for (int64_t r = 0; r < out.rows; ++r)
    for (int64_t c = 0; c < out.cols; ++c) out(r, c) = q.codes(r, c) * q.scale(r, c, g);
  return out;
}

// Asymmetric 8-bit fake quantization (codes 0..255, integer zero point) per row or per tensor:
// the projections' activations.
Mat FakeAsym(const Mat& m, Group g) {
  Mat out(m.rows, m.cols);
  const int64_t groups = g == Group::kTensor ? 1 : m.rows;
  for (int64_t i = 0; i < groups; ++i) {
    const int64_t r0 = g == Group::kTensor ? 0 : i, r1 = g == Group::kTensor ? m.rows : i + 1;
    double lo = 0.0, hi = 0.0;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < m.cols; ++c) {
        lo = std::min(lo, m(r, c));
        hi = std::max(hi, m(r, c));
      }
    const double scale = hi > lo ? (hi - lo) / 255.0 : 1.0;
    const double zp = std::clamp(-Round(lo / scale), 0.0, 255.0);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < m.cols; ++c) {
        out(r, c) = (std::clamp(Round(m(r, c) / scale) + zp, 0.0, 255.0) - zp) * scale;
      }
  }
  return out;
}

// x [T x in] times W [out x in]^T, both fake-quantized as a granularity says: per-channel/token
// (W per output channel, x per token, asymmetric) or per-tensor.
Mat Project(const Mat& x, const FloatMatrix& w_float, bool per_channel) {
  const Mat w = FromFloat(w_float);
  const Mat xq = FakeAsym(x, per_channel ? Group::kRow : Group::kTensor);
  const Mat wq = Dequant(QuantSym(w, per_channel ? Group::kRow : Group::kTensor, 8),
                         per_channel ? Group::kRow : Group::kTensor);
  Mat y(x.rows, w.rows);
  for (int64_t t = 0; t < x.rows; ++t)
    for (int64_t o = 0; o < w.rows; ++o) {
      double s = 0.0;
      for (int64_t i = 0; i < x.cols; ++i) s += xq(t, i) * wq(o, i);
      y(t, o) = s;
    }
  return y;
}

void Rope(Mat* m, int heads, int d, double theta, int64_t first_position) {
  const int half = d / 2;
  for (int64_t r = 0; r < m->rows; ++r) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < half; ++i) {
        const double angle =
            static_cast<double>(r + first_position) * std::pow(theta, -2.0 * i / d);
        double& a = (*m)(r, h * d + i);
        double& b = (*m)(r, h * d + i + half);
        const double xa = a, xb = b;
        a = xa * std::cos(angle) - xb * std::sin(angle);
        b = xa * std::sin(angle) + xb * std::cos(angle);
      }
    }
  }
}

struct SimConfig {
  bool per_channel_projections = true;  // W / x / Q granularity
  bool key_per_channel = true;          // else per-tensor
  bool value_per_token = true;          // else per-tensor
  int kv_bits = 8;
  ProbScheme p = ProbScheme::kPerRow;
  int keep = 0;  // keep_sink_kv_fp32
};

struct SimResult {
  Mat y;
  std::vector<Mat> p_codes;  // per kv head [G*T x quantized keys], heads of the group stacked
};

// The int8 layer (causal mask, RoPE rotate-half, no projection biases), in double.
SimResult Simulate(const AttentionSpec& s, const AttentionWeights& w, const FloatMatrix& x_float,
                   const SimConfig& c) {
  const int64_t T = x_float.rows();
  const int H = s.num_heads, KVH = s.num_kv_heads, D = s.head_dim, G = H / KVH;
  const int prefix = s.variant == Variant::kKvBias ? 1 : 0;
  const int64_t keys = prefix + T;
  const Mat x = FromFloat(x_float);
  Mat q = Project(x, w.wq, c.per_channel_projections);
  Mat k = Project(x, w.wk, c.per_channel_projections);
  Mat v = Project(x, w.wv, c.per_channel_projections);
  Rope(&q, H, D, s.rope_theta, 0);
  Rope(&k, KVH, D, s.rope_theta, 0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const double levels = 255.0;
  SimResult out;
  Mat heads(T, int64_t{H} * D);
  for (int g = 0; g < KVH; ++g) {
    Mat K(keys, D), V(keys, D);
    for (int64_t j = 0; j < keys; ++j)
      for (int d = 0; d < D; ++d) {
        const bool slot = j < prefix;
        K(j, d) = slot ? w.k_bias(g, d) : k(j - prefix, g * D + d);
        V(j, d) = slot ? w.v_bias(g, d) : v(j - prefix, g * D + d);
      }
    const int64_t n = std::min<int64_t>(c.keep, keys), kr = keys - n;
    Mat Kr(kr, D), Vr(kr, D);
    for (int64_t j = 0; j < kr; ++j)
      for (int d = 0; d < D; ++d) {
        Kr(j, d) = K(n + j, d);
        Vr(j, d) = V(n + j, d);
      }
    const Group kg = c.key_per_channel ? Group::kColumn : Group::kTensor;
    const Group vg = c.value_per_token ? Group::kRow : Group::kTensor;
    const SymCodes kq = QuantSym(Kr, kg, c.kv_bits);
    const SymCodes vq = QuantSym(Vr, vg, c.kv_bits);
    // Q of the group's heads stacked [G*T x D], K's per-channel scales folded in, quantized per
    // token (per-tensor over the stack when the projections are per-tensor).
    Mat qs(int64_t{G} * T, D);
    for (int m = 0; m < G; ++m)
      for (int64_t t = 0; t < T; ++t)
        for (int d = 0; d < D; ++d) {
          qs(m * T + t, d) = q(t, (g * G + m) * D + d) * (c.key_per_channel ? kq.scales[d] : 1.0);
        }
    const SymCodes qq = QuantSym(qs, c.per_channel_projections ? Group::kRow : Group::kTensor, 8);
    // V's per-token scales folded into P: factor s_j / max s.
    double s_max = 0.0;
    for (double sv : vq.scales) s_max = std::max(s_max, sv);
    Mat pc(int64_t{G} * T, kr);
    for (int m = 0; m < G; ++m) {
      const int h = g * G + m;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t row = m * T + t;
        // Logits over the visible keys: the prefix and sequence keys 0..t.
        std::vector<double> z(keys, -INFINITY);
        for (int64_t j = 0; j < keys; ++j) {
          if (j >= prefix && j - prefix > t) continue;
          double dot = 0.0;
          if (j < n) {
            for (int d = 0; d < D; ++d) dot += q(t, h * D + d) * K(j, d);
          } else {
            for (int d = 0; d < D; ++d) {
              const double qd = qq.codes(row, d) * qq.scale(row, d, c.per_channel_projections
                                                                        ? Group::kRow
                                                                        : Group::kTensor);
              dot += c.key_per_channel ? qd * kq.codes(j - n, d)
                                       : qd * kq.codes(j - n, d) * kq.scales[0];
            }
          }
          z[j] = dot * scale;
        }
        double mx = -INFINITY;
        for (double zj : z) mx = std::max(mx, zj);
        const bool has_sink = s.variant == Variant::kSinkLogit || s.variant == Variant::kSoftmax1;
        const double sink = s.variant == Variant::kSinkLogit ? w.sinks(h) : 0.0;
        if (has_sink) mx = std::max(mx, sink);
        double den = has_sink ? std::exp(sink - mx) : 0.0;
        std::vector<double> p(keys, 0.0);
        for (int64_t j = 0; j < keys; ++j) {
          if (std::isfinite(z[j])) den += (p[j] = std::exp(z[j] - mx));
        }
        for (double& pj : p) pj /= den;
        if (s.variant == Variant::kSigmoid) {  // sigmoid(z - ln n), n the visible keys
          double seen = 0.0;
          for (double zj : z) seen += std::isfinite(zj) ? 1.0 : 0.0;
          for (int64_t j = 0; j < keys; ++j) {
            p[j] = std::isfinite(z[j]) ? 1.0 / (1.0 + std::exp(std::log(seen) - z[j])) : 0.0;
          }
        }
        // P V: fp32 keys, then the quantized keys under the P scheme.
        std::vector<double> o(D, 0.0);
        for (int64_t j = 0; j < n; ++j)
          for (int d = 0; d < D; ++d) o[d] += p[j] * V(j, d);
        const Mat vd = Dequant(vq, vg);
        if (c.p == ProbScheme::kFp32) {
          for (int64_t j = 0; j < kr; ++j)
            for (int d = 0; d < D; ++d) o[d] += p[n + j] * vd(j, d);
        } else {
          std::vector<double> pt(kr);
          double row_max = 0.0;
          for (int64_t j = 0; j < kr; ++j) {
            pt[j] = p[n + j] * (c.value_per_token ? vq.scales[j] / s_max : 1.0);
            row_max = std::max(row_max, pt[j]);
          }
          double a = 1.0 / levels;
          if (c.p == ProbScheme::kPerRow && row_max > 0) a = row_max / levels;
          for (int64_t j = 0; j < kr; ++j) {
            pc(row, j) = std::clamp(Round(pt[j] / a), 0.0, levels);
            for (int d = 0; d < D; ++d) {
              o[d] += c.value_per_token ? pc(row, j) * a * s_max * vq.codes(j, d)
                                        : pc(row, j) * a * vd(j, d);
            }
          }
        }
        for (int d = 0; d < D; ++d) heads(t, h * D + d) = o[d];
      }
    }
    out.p_codes.push_back(std::move(pc));
  }
  out.y = Project(heads, w.wo, c.per_channel_projections);
  return out;
}

// ---------------------------------------------------------------------------------------------

AttentionQuantConfig LibraryConfig(const SimConfig& c) {
  AttentionQuantConfig q;
  if (!c.per_channel_projections) {
    q.weights = QuantScheme::PerTensor();
    q.activations = QuantScheme::PerTensor().Asymmetric();
    q.query = QuantScheme::PerTensor();
  }
  q.key = (c.key_per_channel ? QuantScheme::PerChannel(1) : QuantScheme::PerTensor())
              .WithBits(c.kv_bits);
  q.value = (c.value_per_token ? QuantScheme::PerToken() : QuantScheme::PerTensor())
                .WithBits(c.kv_bits);
  q.prob_scheme = c.p;
  q.keep_sink_kv_fp32 = c.keep;
  return q;
}

double SqnrDb(const FloatMatrix& ref, const FloatMatrix& got) {
  double sig = 0.0, err = 0.0;
  for (int64_t i = 0; i < ref.size(); ++i) {
    const double r = ref.data()[i], e = r - got.data()[i];
    sig += r * r;
    err += e * e;
  }
  return 10.0 * std::log10(sig / err);
}

double SqnrDb(const FloatMatrix& ref, const Mat& got) {
  FloatMatrix g(got.rows, got.cols);
  for (int64_t r = 0; r < got.rows; ++r)
    for (int64_t c = 0; c < got.cols; ++c) g(r, c) = static_cast<float>(got(r, c));
  return SqnrDb(ref, g);
}

// A long-context layer with diffuse attention and spread V norms: token norms log-uniform over
// [0.1, 10] (so V rows differ by up to 100x), queries and keys small (logits ~ N(0, 0.25)).
struct LongContextCase {
  AttentionSpec spec;
  AttentionWeights weights;
  FloatMatrix x;
};

LongContextCase MakeLongContext(Variant v, int64_t T, uint32_t seed) {
  LongContextCase c;
  AttentionSpec& s = c.spec;
  s.d_model = 64;
  s.num_heads = 4;
  s.num_kv_heads = 2;
  s.head_dim = 16;
  s.rope_theta = 10000.0f;
  s.variant = v;
  s.num_sink_tokens = 4;  // sink_tokens only
  c.weights = RandomAttentionWeights(s, seed);
  c.weights.wq *= 0.5f;
  c.weights.wk *= 0.5f;
  std::mt19937 rng(seed + 1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_norm(std::log(0.1f), std::log(10.0f));
  c.x.resize(T, s.d_model);
  for (int64_t t = 0; t < T; ++t) {
    const float g = std::exp(log_norm(rng));
    for (int i = 0; i < s.d_model; ++i) c.x(t, i) = g * normal(rng);
  }
  return c;
}

FloatMatrix Reference(const LongContextCase& c) {
  absl::StatusOr<ReferenceAttention> ref = ReferenceAttention::Create(c.spec, c.weights);
  EXPECT_TRUE(ref.ok()) << ref.status();
  absl::StatusOr<FloatMatrix> y = ref->Forward(c.x);
  EXPECT_TRUE(y.ok()) << y.status();
  return *y;
}

double LibrarySqnr(const LongContextCase& c, const FloatMatrix& ref, const SimConfig& sc,
                   std::vector<Int8Attention::ProbCodes>* codes = nullptr) {
  absl::StatusOr<Int8Attention> layer = Int8Attention::Create(c.spec, c.weights, LibraryConfig(sc));
  EXPECT_TRUE(layer.ok()) << layer.status();
  std::vector<Int8Attention::ProbCodes> local;
  absl::StatusOr<FloatMatrix> y = layer->ForwardRecordingProbCodes(c.x, codes ? codes : &local);
  EXPECT_TRUE(y.ok()) << y.status();
  return SqnrDb(ref, *y);
}

const char* Name(ProbScheme p) { return ProbSchemeName(p); }

TEST(Int8ProbSchemeTest, LibraryEqualsTheFloat64Simulation) {
  struct Case {
    Variant variant;
    SimConfig config;
  };
  std::vector<Case> cases;
  for (ProbScheme p : {ProbScheme::kPerRow, ProbScheme::kFixed, ProbScheme::kFp32}) {
    for (bool fine : {true, false}) {
      SimConfig c;
      c.p = p;
      c.per_channel_projections = c.key_per_channel = c.value_per_token = fine;
      cases.push_back({Variant::kVanilla, c});
    }
    SimConfig keep;
    keep.p = p;
    keep.keep = 4;
    cases.push_back({Variant::kSinkLogit, keep});
    SimConfig kv4;
    kv4.p = p;
    kv4.kv_bits = 4;
    cases.push_back({Variant::kKvBias, kv4});
    SimConfig mixed;  // per-tensor K, per-token V
    mixed.p = p;
    mixed.key_per_channel = false;
    cases.push_back({Variant::kSoftmax1, mixed});
    SimConfig sigmoid;  // rows that do not sum to 1: the per-row scale is max_j P~ / levels
    sigmoid.p = p;
    cases.push_back({Variant::kSigmoid, sigmoid});
  }
  for (const Case& k : cases) {
    const LongContextCase lc = MakeLongContext(k.variant, 256, 17);
    const SimConfig& sc = k.config;
    const std::string name = std::string(VariantName(k.variant)) + " P " + Name(sc.p) +
                             (sc.per_channel_projections ? " per-channel/token" : " per-tensor") +
                             " K " + (sc.key_per_channel ? "channel" : "tensor") + " V " +
                             (sc.value_per_token ? "token" : "tensor") + " kv" +
                             std::to_string(sc.kv_bits) + " keep" + std::to_string(sc.keep);
    SCOPED_TRACE(name);
    const FloatMatrix ref = Reference(lc);
    std::vector<Int8Attention::ProbCodes> codes;
    const double lib = LibrarySqnr(lc, ref, sc, &codes);
    const SimResult sim = Simulate(lc.spec, lc.weights, lc.x, sc);
    const double want = SqnrDb(ref, sim.y);
    std::cout << name << ": library " << lib << " dB, simulation " << want << " dB\n";
    EXPECT_NEAR(lib, want, 0.1);
    if (sc.p == ProbScheme::kFp32) {
      EXPECT_TRUE(codes.empty());
      continue;
    }
    // P's codes: one product per kv head (T = 256 fits one query block).
    ASSERT_EQ(codes.size(), sim.p_codes.size());
    int64_t total = 0, differ = 0;
    for (size_t g = 0; g < codes.size(); ++g) {
      const Mat& want_codes = sim.p_codes[g];
      ASSERT_EQ(codes[g].rows, want_codes.rows);
      ASSERT_EQ(codes[g].keys, want_codes.cols);
      for (int64_t i = 0; i < want_codes.rows * want_codes.cols; ++i) {
        const double d = std::fabs(codes[g].codes[i] - want_codes.a[i]);
        ++total;
        if (d != 0) ++differ;
        // A code differs only where float and double round a near-tie differently.
        ASSERT_LE(d, 1.0) << "kv head " << g << " element " << i;
      }
    }
    std::cout << "  P codes: " << differ << " of " << total << " differ by one (ties)\n";
    EXPECT_LE(differ, total / 1000) << "P codes differing from the simulation";
  }
}

// The property: each finer granularity is never worse than the coarser one by more than 0.2 dB:
// per-token V against per-tensor V (for either K), per-channel K against per-tensor K (for either
// V), in every variant, with and without fp32 sink keys, at T = 256 and 512.
TEST(Int8ProbSchemeTest, FinerKvGranularityIsNeverWorse) {
  for (Variant v : {Variant::kVanilla, Variant::kSinkLogit, Variant::kKvBias, Variant::kSoftmax1,
                    Variant::kSinkTokens, Variant::kGated, Variant::kSigmoid}) {
    for (int64_t T : {256, 512}) {
      for (int keep : {0, 4}) {
        for (int bits : {8, 4}) {
          const LongContextCase lc = MakeLongContext(v, T, 23 + static_cast<uint32_t>(T));
          const FloatMatrix ref = Reference(lc);
          double db[2][2];  // [K per-channel][V per-token]
          for (int kc = 0; kc < 2; ++kc) {
            for (int vt = 0; vt < 2; ++vt) {
              SimConfig c;
              c.key_per_channel = kc == 1;
              c.value_per_token = vt == 1;
              c.keep = keep;
              c.kv_bits = bits;
              db[kc][vt] = LibrarySqnr(lc, ref, c);
            }
          }
          const std::string name = std::string(VariantName(v)) + " T " + std::to_string(T) +
                                   " keep" + std::to_string(keep) + " kv" + std::to_string(bits);
          std::cout << name << ": K tensor/V tensor " << db[0][0] << ", K tensor/V token "
                    << db[0][1] << ", K channel/V tensor " << db[1][0]
                    << ", K channel/V token " << db[1][1] << " dB\n";
          for (int kc = 0; kc < 2; ++kc) {
            EXPECT_GE(db[kc][1], db[kc][0] - 0.2) << name << ": per-token V, K " << kc;
          }
          for (int vt = 0; vt < 2; ++vt) {
            EXPECT_GE(db[1][vt], db[0][vt] - 0.2) << name << ": per-channel K, V " << vt;
          }
        }
      }
    }
  }
}

// Why per_row is the default. P's own share of the error, isolated: P V with P quantized against
// the same layer with P in fp32 (everything else identical). With V per token, the fold shrinks
// the P~ of every key whose V is smaller than the largest, and the fixed 1/255 scale rounds most
// of a diffuse row to 0 or 1 code; per_row keeps the row's resolution.
TEST(Int8ProbSchemeTest, PerRowBeatsTheFixedScaleOnDiffuseAttention) {
  for (int64_t T : {256, 1024}) {
    const LongContextCase lc = MakeLongContext(Variant::kVanilla, T, 5);
    FloatMatrix heads[3];
    const ProbScheme schemes[3] = {ProbScheme::kFixed, ProbScheme::kPerRow, ProbScheme::kFp32};
    for (int i = 0; i < 3; ++i) {
      SimConfig c;
      c.p = schemes[i];
      absl::StatusOr<Int8Attention> layer =
          Int8Attention::Create(lc.spec, lc.weights, LibraryConfig(c));
      ASSERT_TRUE(layer.ok());
      AttentionIntermediates inter;
      ASSERT_TRUE(layer->Forward(lc.x, &inter).ok());
      heads[i] = inter.heads;
    }
    const double fixed = SqnrDb(heads[2], heads[0]), per_row = SqnrDb(heads[2], heads[1]);
    std::cout << "T " << T << ": P's own error at P V (SQNR against P in fp32): fixed " << fixed
              << " dB, per_row " << per_row << " dB\n";
    EXPECT_GT(per_row, fixed + 6.0) << "T " << T;
  }
}

TEST(Int8ProbSchemeTest, NamesRoundTripAndUnknownIsAnError) {
  for (ProbScheme p : {ProbScheme::kPerRow, ProbScheme::kFixed, ProbScheme::kFp32}) {
    absl::StatusOr<ProbScheme> back = ParseProbScheme(ProbSchemeName(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  absl::StatusOr<ProbScheme> bad = ParseProbScheme("per_column");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("per_row, fixed, fp32"), std::string::npos);
  AttentionQuantConfig c;
  EXPECT_NE(c.ToString().find("P u8 per-row"), std::string::npos) << c.ToString();
  c.prob_scheme = ProbScheme::kFixed;
  EXPECT_NE(c.ToString().find("P u8 fixed 1/255"), std::string::npos) << c.ToString();
  c.prob_scheme = ProbScheme::kFp32;
  EXPECT_NE(c.ToString().find("P fp32"), std::string::npos) << c.ToString();
}

}  // namespace
}  // namespace sinkscope::attention
