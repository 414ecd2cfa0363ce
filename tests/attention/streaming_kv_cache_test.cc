// StreamingKvCache and StreamingAttention: without eviction, streaming reproduces
// ReferenceAttention's causal layer row by row; with eviction, every step equals a naive
// single-query attention written here (double) over the kept tokens (the first n_sink and the
// last `window`) at the positions of the mode; sinks are never evicted; far positions (70K) keep
// their precision; Prefill ends where Steps end; bad inputs are errors.
#include "attention/streaming_kv_cache.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attention/reference_attention.h"
#include "gtest/gtest.h"

namespace sinkscope::attention {
namespace {

constexpr CachePositions kModes[] = {CachePositions::kWithinCache, CachePositions::kOriginal};
constexpr RopeLayout kLayouts[] = {RopeLayout::kInterleaved, RopeLayout::kRotateHalf};
constexpr Variant kStreamedVariants[] = {Variant::kVanilla,  Variant::kSinkLogit,
                                         Variant::kKvBias,   Variant::kGated,
                                         Variant::kSoftmax1, Variant::kClippedSoftmax,
                                         Variant::kSigmoid};

FloatMatrix RandomInput(int64_t T, int d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix x(T, d);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = n(rng);
  return x;
}

AttentionSpec MakeSpec(Variant variant, int heads, int kv_heads, RopeLayout layout,
                       float theta = 10000.0f) {
  AttentionSpec s;
  s.d_model = 32;
  s.num_heads = heads;
  s.num_kv_heads = kv_heads;
  s.head_dim = 8;
  s.q_bias = s.k_bias = s.v_bias = s.o_bias = true;
  s.rope_theta = theta;
  s.rope_layout = layout;
  s.variant = variant;
  if (variant == Variant::kClippedSoftmax) {
    s.clip_zeta = 1.05f;
    s.clip_gamma = -0.03f;
  }
  return s;
}

std::string CaseName(const AttentionSpec& s, CachePositions mode) {
  return absl::StrCat(VariantName(s.variant), " H", s.num_heads, "/", s.num_kv_heads, " ",
                      RopeLayoutName(s.rope_layout), " ", CachePositionsName(mode));
}

// max |a - b| / max |ref|.
double RelErr(const FloatVector& got, const std::vector<double>& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num = std::max(num, std::abs(got(i) - ref[i]));
    den = std::max(den, std::abs(ref[i]));
  }
  return num / std::max(den, 1e-12);
}

std::vector<double> RowOf(const FloatMatrix& m, int64_t r) {
  return std::vector<double>(m.row(r).data(), m.row(r).data() + m.cols());
}

// ---- The independent reference: one query over a given key set, in double. ----

// (x_r W^T + b) restricted to output features [off, off + n).
std::vector<double> Proj(const FloatMatrix& x, int64_t r, const FloatMatrix& w,
                         const FloatVector& b, int64_t off, int64_t n) {
  std::vector<double> out(n);
  for (int64_t o = 0; o < n; ++o) {
    double s = b.size() > 0 ? b(off + o) : 0.0;
    for (int64_t i = 0; i < x.cols(); ++i) s += double{x(r, i)} * w(off + o, i);
    out[o] = s;
  }
  return out;
}

std::vector<double> Rope(std::vector<double> v, int64_t pos, const AttentionSpec& s) {
  if (s.rope_theta <= 0) return v;
  const int D = static_cast<int>(v.size());
  const std::vector<double> in = v;
  for (int i = 0; i < D / 2; ++i) {
    const double ang = static_cast<double>(pos) * std::pow(double{s.rope_theta}, -2.0 * i / D);
    const int a = s.rope_layout == RopeLayout::kInterleaved ? 2 * i : i;
    const int b = s.rope_layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + D / 2;
    v[a] = in[a] * std::cos(ang) - in[b] * std::sin(ang);
    v[b] = in[a] * std::sin(ang) + in[b] * std::cos(ang);
  }
  return v;
}

// Output [d_model] of query token x.row(t) at position q_pos attending to the tokens
// x.row(key_rows[j]) at positions key_pos[j] (all visible), plus the KV-bias slot.
std::vector<double> NaiveQuery(const AttentionSpec& s, const AttentionWeights& w,
                               const FloatMatrix& x, int64_t t, int64_t q_pos,
                               const std::vector<int64_t>& key_rows,
                               const std::vector<int64_t>& key_pos) {
  const int H = s.num_heads, D = s.head_dim, G = s.num_heads / s.num_kv_heads;
  const double scale = s.softmax_scale > 0 ? s.softmax_scale : 1.0 / std::sqrt(double{1.0 * D});
  std::vector<double> heads(int64_t{H} * D, 0.0);
  for (int h = 0; h < H; ++h) {
    const int g = h / G;
    const std::vector<double> q = Rope(Proj(x, t, w.wq, w.bq, int64_t{h} * D, D), q_pos, s);
    std::vector<std::vector<double>> ks, vs;
    if (s.variant == Variant::kKvBias) {
      ks.emplace_back(w.k_bias.row(g).data(), w.k_bias.row(g).data() + D);
      vs.emplace_back(w.v_bias.row(g).data(), w.v_bias.row(g).data() + D);
    }
    for (size_t j = 0; j < key_rows.size(); ++j) {
      ks.push_back(Rope(Proj(x, key_rows[j], w.wk, w.bk, int64_t{g} * D, D), key_pos[j], s));
      vs.push_back(Proj(x, key_rows[j], w.wv, w.bv, int64_t{g} * D, D));
    }
    std::vector<double> z(ks.size());
    double m = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < ks.size(); ++j) {
      double dot = 0.0;
      for (int d = 0; d < D; ++d) dot += q[d] * ks[j][d];
      z[j] = dot * scale;
      m = std::max(m, z[j]);
    }
    const bool has_sink = s.variant == Variant::kSinkLogit || s.variant == Variant::kSoftmax1;
    const double sink = s.variant == Variant::kSinkLogit ? w.sinks(h) : 0.0;
    if (has_sink) m = std::max(m, sink);
    double den = has_sink ? std::exp(sink - m) : 0.0;
    for (double zj : z) den += std::exp(zj - m);
    double gate = 1.0;
    if (s.variant == Variant::kGated) {
      double a = w.gate_b.size() > 0 ? w.gate_b(h) : 0.0;
      for (int i = 0; i < s.d_model; ++i) a += double{x(t, i)} * w.gate_w(h, i);
      gate = 1.0 / (1.0 + std::exp(-a));
    }
    for (size_t j = 0; j < ks.size(); ++j) {
      double p = std::exp(z[j] - m) / den;
      if (s.variant == Variant::kSigmoid) {  // sigmoid(z - ln n), n the keys this query sees
        p = 1.0 / (1.0 + std::exp(-(z[j] - std::log(static_cast<double>(ks.size())))));
      }
      if (s.variant == Variant::kClippedSoftmax) {
        p = std::clamp((s.clip_zeta - s.clip_gamma) * p + s.clip_gamma, 0.0, 1.0);
      }
      for (int d = 0; d < D; ++d) heads[int64_t{h} * D + d] += gate * p * vs[j][d];
    }
  }
  std::vector<double> y(s.d_model);
  for (int o = 0; o < s.d_model; ++o) {
    double acc = w.bo.size() > 0 ? w.bo(o) : 0.0;
    for (int64_t i = 0; i < int64_t{H} * D; ++i) acc += heads[i] * w.wo(o, i);
    y[o] = acc;
  }
  return y;
}

// The stream tokens a StreamingLLM cache holds after token t: the first n_sink, the last window.
std::vector<int64_t> KeptTokens(int64_t t, int n_sink, int window) {
  std::vector<int64_t> kept;
  for (int64_t j = 0; j <= t; ++j) {
    if (j < n_sink || j > t - window) kept.push_back(j);
  }
  return kept;
}

// The naive output of stream token t (absolute position t) under the mode's positions.
std::vector<double> NaiveStreamingStep(const AttentionSpec& s, const AttentionWeights& w,
                                       const FloatMatrix& x, int64_t t, int n_sink, int window,
                                       CachePositions mode) {
  const std::vector<int64_t> kept = KeptTokens(t, n_sink, window);
  std::vector<int64_t> pos(kept.size());
  for (size_t j = 0; j < kept.size(); ++j) {
    pos[j] = mode == CachePositions::kWithinCache ? static_cast<int64_t>(j) : kept[j];
  }
  const int64_t q_pos = mode == CachePositions::kWithinCache
                            ? static_cast<int64_t>(kept.size()) - 1
                            : t;
  return NaiveQuery(s, w, x, t, q_pos, kept, pos);
}

// ---- StreamingKvCache on its own ----

TEST(StreamingKvCacheTest, RingKeepsSinksAndTheLastWindowInOrder) {
  const int kvh = 2, d = 3, n_sink = 2, window = 3;
  absl::StatusOr<StreamingKvCache> cache = StreamingKvCache::Create(kvh, d, n_sink, window);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ(cache->capacity(), 5);
  const float* sink_row0 = cache->keys().data();
  for (int64_t t = 0; t < 23; ++t) {
    Eigen::RowVectorXf k = Eigen::RowVectorXf::Constant(kvh * d, static_cast<float>(t));
    Eigen::RowVectorXf v = -k;
    ASSERT_TRUE(cache->Append(k, v, 100 + 2 * t).ok());
    const std::vector<int64_t> kept = KeptTokens(t, n_sink, window);
    ASSERT_EQ(cache->size(), static_cast<int>(kept.size()));
    EXPECT_EQ(cache->tokens_seen(), t + 1);
    EXPECT_EQ(cache->CacheIndexOfRow(cache->newest_row()), cache->size() - 1);
    for (int i = 0; i < cache->size(); ++i) {
      EXPECT_EQ(cache->CacheIndexOfRow(cache->RowOf(i)), i);
      EXPECT_EQ(cache->KeyAt(i)[kvh * d - 1], static_cast<float>(kept[i]));
      EXPECT_EQ(cache->ValueAt(i)[0], -static_cast<float>(kept[i]));
      EXPECT_EQ(cache->OriginalPositionAt(i), 100 + 2 * kept[i]);
      EXPECT_EQ(cache->PositionAt(i, CachePositions::kOriginal), 100 + 2 * kept[i]);
      EXPECT_EQ(cache->PositionAt(i, CachePositions::kWithinCache), i);
    }
  }
  // Sinks stay in their storage rows; storage never moves.
  EXPECT_EQ(cache->keys().data(), sink_row0);
  EXPECT_EQ(cache->RowOf(0), 0);
  EXPECT_EQ(cache->RowOf(1), 1);
  cache->Clear();
  EXPECT_EQ(cache->size(), 0);
  EXPECT_EQ(cache->tokens_seen(), 0);
  EXPECT_TRUE(cache->Append(Eigen::RowVectorXf::Zero(kvh * d), Eigen::RowVectorXf::Zero(kvh * d),
                            0)
                  .ok());
}

TEST(StreamingKvCacheTest, NoSinks) {
  absl::StatusOr<StreamingKvCache> cache = StreamingKvCache::Create(1, 1, 0, 4);
  ASSERT_TRUE(cache.ok());
  for (int64_t t = 0; t < 11; ++t) {
    const float k = static_cast<float>(t);
    ASSERT_TRUE(cache->Append(&k, &k, t).ok());
  }
  ASSERT_EQ(cache->size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(cache->OriginalPositionAt(i), 7 + i);
}

TEST(StreamingKvCacheTest, BadInputs) {
  EXPECT_FALSE(StreamingKvCache::Create(2, 4, 0, 0).ok());  // n_sink + window == 0
  EXPECT_FALSE(StreamingKvCache::Create(2, 4, 4, 0).ok());  // no room for the newest token
  EXPECT_FALSE(StreamingKvCache::Create(2, 4, -1, 8).ok());
  EXPECT_FALSE(StreamingKvCache::Create(0, 4, 1, 8).ok());
  EXPECT_FALSE(StreamingKvCache::Create(2, 0, 1, 8).ok());
  absl::StatusOr<StreamingKvCache> cache = StreamingKvCache::Create(1, 2, 1, 2);
  ASSERT_TRUE(cache.ok());
  const float ok[2] = {1.0f, 2.0f};
  const float nan[2] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_FALSE(cache->Append(nan, ok, 0).ok());
  EXPECT_FALSE(cache->Append(ok, nan, 0).ok());
  EXPECT_FALSE(cache->Append(ok, ok, -1).ok());
  EXPECT_EQ(cache->size(), 0);
  ASSERT_TRUE(cache->Append(ok, ok, 5).ok());
  EXPECT_FALSE(cache->Append(ok, ok, 5).ok());  // not increasing
  EXPECT_FALSE(cache->Append(ok, ok, 4).ok());
  EXPECT_FALSE(cache->Append(Eigen::RowVectorXf::Zero(3), Eigen::RowVectorXf::Zero(2), 6).ok());
  EXPECT_EQ(cache->size(), 1);
  EXPECT_EQ(cache->tokens_seen(), 1);
}

// ---- StreamingAttention ----

// Nothing evicted: every row equals ReferenceAttention's causal layer on the whole sequence.
TEST(StreamingAttentionTest, WithoutEvictionMatchesReferenceRowByRow) {
  const int64_t T = 20;
  const FloatMatrix x = RandomInput(T, 32, 11);
  for (Variant variant : kStreamedVariants) {
    for (auto [H, KVH] : {std::pair{4, 4}, std::pair{4, 2}, std::pair{4, 1}}) {
      for (RopeLayout layout : kLayouts) {
        const AttentionSpec spec = MakeSpec(variant, H, KVH, layout);
        const AttentionWeights w = RandomAttentionWeights(spec, 3);
        absl::StatusOr<ReferenceAttention> ref = ReferenceAttention::Create(spec, w);
        ASSERT_TRUE(ref.ok()) << ref.status();
        absl::StatusOr<FloatMatrix> want = ref->Forward(x);
        ASSERT_TRUE(want.ok()) << want.status();
        for (CachePositions mode : kModes) {
          for (auto [n_sink, window] : {std::pair{4, 28}, std::pair{0, 20}}) {
            absl::StatusOr<StreamingAttention> layer =
                StreamingAttention::Create(spec, w, n_sink, window, mode);
            ASSERT_TRUE(layer.ok()) << layer.status();
            for (int64_t t = 0; t < T; ++t) {
              absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
              ASSERT_TRUE(y.ok()) << y.status();
              EXPECT_LT(RelErr(*y, RowOf(*want, t)), 1e-4)
                  << CaseName(spec, mode) << " n_sink " << n_sink << " t " << t;
            }
          }
        }
      }
    }
  }
}

TEST(StreamingAttentionTest, WithoutRopeMatchesReference) {
  const FloatMatrix x = RandomInput(12, 32, 5);
  const AttentionSpec spec = MakeSpec(Variant::kSinkLogit, 4, 2, RopeLayout::kRotateHalf, 0.0f);
  const AttentionWeights w = RandomAttentionWeights(spec, 9);
  absl::StatusOr<FloatMatrix> want = ReferenceAttention::Create(spec, w)->Forward(x);
  ASSERT_TRUE(want.ok());
  for (CachePositions mode : kModes) {
    absl::StatusOr<StreamingAttention> layer = StreamingAttention::Create(spec, w, 2, 10, mode);
    ASSERT_TRUE(layer.ok());
    for (int64_t t = 0; t < x.rows(); ++t) {
      absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
      ASSERT_TRUE(y.ok());
      EXPECT_LT(RelErr(*y, RowOf(*want, t)), 1e-4) << CachePositionsName(mode) << " t " << t;
    }
  }
}

// With eviction: each step against the naive query over the kept tokens, from scratch.
TEST(StreamingAttentionTest, WithEvictionMatchesNaiveOverKeptTokens) {
  struct Shape {
    int n_sink, window;
    int64_t T;
  };
  const Shape shapes[] = {{0, 8, 30}, {4, 8, 30}, {4, 1, 12}, {1, 5, 20}, {4, 12, 40}};
  const FloatMatrix x = RandomInput(40, 32, 21);
  for (Variant variant : kStreamedVariants) {
    for (auto [H, KVH] : {std::pair{4, 4}, std::pair{4, 2}}) {
      for (RopeLayout layout : kLayouts) {
        const AttentionSpec spec = MakeSpec(variant, H, KVH, layout);
        const AttentionWeights w = RandomAttentionWeights(spec, 4);
        for (CachePositions mode : kModes) {
          for (const Shape& sh : shapes) {
            absl::StatusOr<StreamingAttention> layer =
                StreamingAttention::Create(spec, w, sh.n_sink, sh.window, mode);
            ASSERT_TRUE(layer.ok()) << layer.status();
            for (int64_t t = 0; t < sh.T; ++t) {
              absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
              ASSERT_TRUE(y.ok()) << y.status();
              EXPECT_LT(RelErr(*y, NaiveStreamingStep(spec, w, x, t, sh.n_sink, sh.window, mode)),
                        1e-4)
                  << CaseName(spec, mode) << " n_sink " << sh.n_sink << " window " << sh.window
                  << " t " << t;
            }
            EXPECT_EQ(layer->cache().size(), std::min<int64_t>(sh.T, sh.n_sink + sh.window));
          }
        }
      }
    }
  }
}

// The modes differ only through the sinks' offsets: RoPE scores depend on q - k positions, and
// window keys have the same offsets to the query in both modes. So after eviction the outputs
// differ with sinks and agree (to rounding) without, for variants without the KV-bias slot (a
// key without RoPE sees the query's own position). This keeps the tests above meaningful.
TEST(StreamingAttentionTest, ModesDifferThroughTheSinksOnly) {
  const FloatMatrix x = RandomInput(40, 32, 23);
  const AttentionSpec spec = MakeSpec(Variant::kVanilla, 4, 2, RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(spec, 10);
  for (int n_sink : {0, 4}) {
    absl::StatusOr<StreamingAttention> within =
        StreamingAttention::Create(spec, w, n_sink, 8, CachePositions::kWithinCache);
    absl::StatusOr<StreamingAttention> original =
        StreamingAttention::Create(spec, w, n_sink, 8, CachePositions::kOriginal);
    ASSERT_TRUE(within.ok() && original.ok());
    double max_rel = 0.0;
    for (int64_t t = 0; t < x.rows(); ++t) {
      const FloatVector a = *within->Step(x.row(t)), b = *original->Step(x.row(t));
      max_rel = std::max(max_rel, double{(a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff()});
    }
    if (n_sink == 0) {
      EXPECT_LT(max_rel, 1e-4);
    } else {
      EXPECT_GT(max_rel, 1e-2);
    }
  }
}

// kWithinCache is StreamingLLM: the layer run on the kept tokens alone gives the last row.
TEST(StreamingAttentionTest, WithinCacheEqualsReferenceOnTheKeptTokens) {
  const int n_sink = 4, window = 6;
  const FloatMatrix x = RandomInput(30, 32, 8);
  for (Variant variant : {Variant::kVanilla, Variant::kKvBias, Variant::kGated}) {
    const AttentionSpec spec = MakeSpec(variant, 4, 2, RopeLayout::kRotateHalf);
    const AttentionWeights w = RandomAttentionWeights(spec, 6);
    absl::StatusOr<ReferenceAttention> ref = ReferenceAttention::Create(spec, w);
    ASSERT_TRUE(ref.ok());
    absl::StatusOr<StreamingAttention> layer =
        StreamingAttention::Create(spec, w, n_sink, window, CachePositions::kWithinCache);
    ASSERT_TRUE(layer.ok());
    for (int64_t t = 0; t < x.rows(); ++t) {
      absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
      ASSERT_TRUE(y.ok());
      const std::vector<int64_t> kept = KeptTokens(t, n_sink, window);
      FloatMatrix xk(static_cast<int64_t>(kept.size()), x.cols());
      for (size_t j = 0; j < kept.size(); ++j) xk.row(j) = x.row(kept[j]);
      absl::StatusOr<FloatMatrix> want = ref->Forward(xk);
      ASSERT_TRUE(want.ok());
      EXPECT_LT(RelErr(*y, RowOf(*want, want->rows() - 1)), 1e-4)
          << VariantName(variant) << " t " << t;
    }
  }
}

// A sliding-window layer of window W streams exactly with n_sink = 0, window = W.
TEST(StreamingAttentionTest, SlidingLayerIsAWindowOnlyCache) {
  AttentionSpec spec = MakeSpec(Variant::kVanilla, 4, 2, RopeLayout::kInterleaved);
  spec.mask = MaskKind::kSliding;
  spec.window = 6;
  const AttentionWeights w = RandomAttentionWeights(spec, 12);
  const FloatMatrix x = RandomInput(25, 32, 13);
  absl::StatusOr<FloatMatrix> want = ReferenceAttention::Create(spec, w)->Forward(x);
  ASSERT_TRUE(want.ok());
  for (CachePositions mode : kModes) {
    absl::StatusOr<StreamingAttention> layer = StreamingAttention::Create(spec, w, 0, 6, mode);
    ASSERT_TRUE(layer.ok());
    for (int64_t t = 0; t < x.rows(); ++t) {
      absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
      ASSERT_TRUE(y.ok());
      EXPECT_LT(RelErr(*y, RowOf(*want, t)), 1e-4) << CachePositionsName(mode) << " t " << t;
    }
  }
}

TEST(StreamingAttentionTest, SinksAreNeverEvicted) {
  const int n_sink = 4, window = 6, cap = n_sink + window;
  const int64_t T = 10 * cap;
  const AttentionSpec spec = MakeSpec(Variant::kVanilla, 4, 2, RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(spec, 2);
  const FloatMatrix x = RandomInput(T, 32, 17);
  for (CachePositions mode : kModes) {
    absl::StatusOr<StreamingAttention> layer =
        StreamingAttention::Create(spec, w, n_sink, window, mode);
    ASSERT_TRUE(layer.ok());
    for (int64_t t = 0; t < T; ++t) ASSERT_TRUE(layer->Step(x.row(t)).ok());
    const StreamingKvCache& cache = layer->cache();
    ASSERT_EQ(cache.size(), cap);
    EXPECT_EQ(cache.tokens_seen(), T);
    EXPECT_EQ(layer->tokens_streamed(), T);
    const std::vector<int64_t> kept = KeptTokens(T - 1, n_sink, window);
    const int kv_dim = spec.num_kv_heads * spec.head_dim;
    for (int i = 0; i < cap; ++i) {
      EXPECT_EQ(cache.OriginalPositionAt(i), kept[i]);
      const std::vector<double> k = Proj(x, kept[i], w.wk, w.bk, 0, kv_dim);
      const std::vector<double> v = Proj(x, kept[i], w.wv, w.bv, 0, kv_dim);
      for (int c = 0; c < kv_dim; ++c) {
        EXPECT_NEAR(cache.KeyAt(i)[c], k[c], 1e-5) << "entry " << i;
        EXPECT_NEAR(cache.ValueAt(i)[c], v[c], 1e-5) << "entry " << i;
      }
    }
    for (int i = 0; i < n_sink; ++i) EXPECT_EQ(cache.OriginalPositionAt(i), i);
  }
}

TEST(StreamingAttentionTest, PrefillEndsWhereStepsEnd) {
  const int n_sink = 3, window = 7;
  const FloatMatrix x = RandomInput(50, 32, 31);
  const AttentionSpec spec = MakeSpec(Variant::kSinkLogit, 4, 2, RopeLayout::kInterleaved);
  const AttentionWeights w = RandomAttentionWeights(spec, 5);
  for (CachePositions mode : kModes) {
    absl::StatusOr<StreamingAttention> stepped =
        StreamingAttention::Create(spec, w, n_sink, window, mode);
    ASSERT_TRUE(stepped.ok());
    std::vector<FloatVector> want;
    for (int64_t t = 0; t < x.rows(); ++t) want.push_back(*stepped->Step(x.row(t)));
    // Chunks smaller than the sinks, than the window, and larger than the capacity.
    for (const std::vector<int64_t>& chunks :
         {std::vector<int64_t>{40}, std::vector<int64_t>{1, 1, 2, 30}, std::vector<int64_t>{2, 5, 13},
          std::vector<int64_t>{0, 45}}) {
      absl::StatusOr<StreamingAttention> layer =
          StreamingAttention::Create(spec, w, n_sink, window, mode);
      ASSERT_TRUE(layer.ok());
      int64_t from = 0;
      for (int64_t c : chunks) {
        ASSERT_TRUE(layer->Prefill(x.middleRows(from, c)).ok());
        from += c;
      }
      EXPECT_EQ(layer->tokens_streamed(), from);
      for (int64_t t = from; t < x.rows(); ++t) {
        absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
        ASSERT_TRUE(y.ok());
        EXPECT_LT((*y - want[t]).cwiseAbs().maxCoeff(), 1e-5 * want[t].cwiseAbs().maxCoeff())
            << CachePositionsName(mode) << " t " << t;
      }
    }
  }
}

// Positions past 64K keep their precision: compare with the naive layer (double angles) after
// a Prefill of 70000 tokens, in both modes and for a large theta.
TEST(StreamingAttentionTest, FarPositionsKeepPrecision) {
  const int n_sink = 4, window = 12;
  const int64_t far = 70000;
  const FloatMatrix x = RandomInput(far + 4, 32, 41);
  for (float theta : {10000.0f, 500000.0f}) {
    for (RopeLayout layout : kLayouts) {
      const AttentionSpec spec = MakeSpec(Variant::kVanilla, 4, 2, layout, theta);
      const AttentionWeights w = RandomAttentionWeights(spec, 8);
      for (CachePositions mode : kModes) {
        absl::StatusOr<StreamingAttention> layer =
            StreamingAttention::Create(spec, w, n_sink, window, mode);
        ASSERT_TRUE(layer.ok());
        ASSERT_TRUE(layer->Prefill(x.topRows(far)).ok());
        EXPECT_EQ(layer->cache().size(), n_sink + window);
        for (int64_t t = far; t < x.rows(); ++t) {
          absl::StatusOr<FloatVector> y = layer->Step(x.row(t));
          ASSERT_TRUE(y.ok());
          EXPECT_LT(RelErr(*y, NaiveStreamingStep(spec, w, x, t, n_sink, window, mode)), 1e-4)
              << CaseName(spec, mode) << " theta " << theta << " t " << t;
        }
        EXPECT_EQ(layer->cache().OriginalPositionAt(n_sink + window - 1), x.rows() - 1);
      }
    }
  }
}

// The same, streamed token by token: rotation positions (append indices, absolute positions)
// pass 64K in both modes.
TEST(StreamingAttentionTest, FarPositionsByStepping) {
  const int n_sink = 4, window = 12;
  const int64_t T = 66000;
  const FloatMatrix x = RandomInput(T, 32, 43);
  const AttentionSpec spec = MakeSpec(Variant::kSinkLogit, 4, 2, RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(spec, 9);
  for (CachePositions mode : kModes) {
    absl::StatusOr<StreamingAttention> layer =
        StreamingAttention::Create(spec, w, n_sink, window, mode);
    ASSERT_TRUE(layer.ok());
    FloatVector y;
    for (int64_t t = 0; t < T; ++t) {
      ASSERT_TRUE(layer->Step(x.row(t), &y).ok());
      if (t % 16384 == 100 || t >= T - 3) {
        EXPECT_LT(RelErr(y, NaiveStreamingStep(spec, w, x, t, n_sink, window, mode)), 1e-4)
            << CachePositionsName(mode) << " t " << t;
      }
    }
    EXPECT_EQ(layer->cache().tokens_seen(), T);
  }
}

TEST(StreamingAttentionTest, ResetStartsANewStream) {
  const FloatMatrix x = RandomInput(15, 32, 1);
  const AttentionSpec spec = MakeSpec(Variant::kGated, 4, 4, RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(spec, 1);
  absl::StatusOr<StreamingAttention> layer =
      StreamingAttention::Create(spec, w, 2, 4, CachePositions::kOriginal);
  ASSERT_TRUE(layer.ok());
  std::vector<FloatVector> first;
  for (int64_t t = 0; t < x.rows(); ++t) first.push_back(*layer->Step(x.row(t)));
  layer->Reset();
  EXPECT_EQ(layer->tokens_streamed(), 0);
  EXPECT_EQ(layer->cache().size(), 0);
  FloatVector y;
  for (int64_t t = 0; t < x.rows(); ++t) {
    ASSERT_TRUE(layer->Step(x.row(t), &y).ok());
    EXPECT_EQ(y, first[t]) << t;
  }
}

TEST(StreamingAttentionTest, BadInputs) {
  const AttentionSpec spec = MakeSpec(Variant::kVanilla, 4, 2, RopeLayout::kRotateHalf);
  const AttentionWeights w = RandomAttentionWeights(spec, 1);
  const auto create = [&](const AttentionSpec& s, const AttentionWeights& ws, int n_sink,
                          int window) {
    return StreamingAttention::Create(s, ws, n_sink, window, CachePositions::kWithinCache);
  };
  EXPECT_FALSE(create(spec, w, 0, 0).ok());  // n_sink + window == 0
  EXPECT_FALSE(create(spec, w, 4, 0).ok());
  EXPECT_FALSE(create(spec, w, -1, 4).ok());
  AttentionWeights bad_w = w;
  bad_w.wq.resize(3, 3);
  absl::Status st = create(spec, bad_w, 4, 4).status();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("q_proj.weight"), std::string::npos) << st;
  AttentionSpec sink_tokens = spec;
  sink_tokens.variant = Variant::kSinkTokens;
  sink_tokens.num_sink_tokens = 2;
  st = create(sink_tokens, RandomAttentionWeights(sink_tokens, 1), 2, 4).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("first n_sink tokens"), std::string::npos) << st;
  AttentionSpec full = spec;
  full.mask = MaskKind::kNone;
  EXPECT_FALSE(create(full, w, 2, 4).ok());

  absl::StatusOr<StreamingAttention> layer = create(spec, w, 2, 4);
  ASSERT_TRUE(layer.ok());
  ASSERT_TRUE(layer->Step(Eigen::RowVectorXf::Ones(32)).ok());
  EXPECT_FALSE(layer->Step(Eigen::RowVectorXf::Ones(33)).ok());
  EXPECT_FALSE(layer->Step(Eigen::RowVectorXf::Ones(31)).ok());
  Eigen::RowVectorXf bad = Eigen::RowVectorXf::Ones(32);
  bad(7) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(layer->Step(bad).ok());
  bad(7) = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(layer->Step(bad).ok());
  FloatMatrix bad_rows = RandomInput(5, 32, 2);
  bad_rows(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(layer->Prefill(bad_rows).ok());
  EXPECT_FALSE(layer->Prefill(RandomInput(5, 31, 2)).ok());
  // Failed calls leave the stream untouched.
  EXPECT_EQ(layer->tokens_streamed(), 1);
  EXPECT_EQ(layer->cache().size(), 1);
}

}  // namespace
}  // namespace sinkscope::attention
