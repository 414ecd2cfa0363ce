#include "analysis/scan_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sinkscope::analysis::internal {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define SINKSCOPE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SINKSCOPE_CLONES
#endif

typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef int32_t v4i __attribute__((vector_size(16)));

inline v4f Load(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline v4d LoadD(const double* p) {
  v4d v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void Store(float* p, v4f v) { std::memcpy(p, &v, sizeof(v)); }
inline void StoreD(double* p, v4d v) { std::memcpy(p, &v, sizeof(v)); }
inline v4f Abs(v4f v) {
  v4i bits;
  std::memcpy(&bits, &v, sizeof(v));
  bits &= 0x7fffffff;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}
// std::max / std::min per lane: (a < b) ? b : a, (b < a) ? b : a.
inline v4f Max(v4f a, v4f b) { return a < b ? b : a; }
inline v4f Min(v4f a, v4f b) { return b < a ? b : a; }
inline v4d MaxD(v4d a, v4d b) { return a < b ? b : a; }
inline v4d Widen(v4f v) { return __builtin_convertvector(v, v4d); }

}  // namespace

SINKSCOPE_CLONES void RowRange(const float* x, int64_t n, float* lo_out, float* hi_out) {
  float lo = x[0], hi = x[0];
  int64_t i = 0;
  if (n >= 8) {
    v4f lo0 = Load(x), lo1 = Load(x + 4), hi0 = lo0, hi1 = lo1;
    for (i = 8; i + 8 <= n; i += 8) {
      const v4f a = Load(x + i), b = Load(x + i + 4);
      lo0 = Min(lo0, a);
      lo1 = Min(lo1, b);
      hi0 = Max(hi0, a);
      hi1 = Max(hi1, b);
    }
    for (int k = 0; k < 4; ++k) {
      lo = std::min({lo, lo0[k], lo1[k]});
      hi = std::max({hi, hi0[k], hi1[k]});
    }
  }
  for (; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  *lo_out = lo;
  *hi_out = hi;
}

SINKSCOPE_CLONES bool AllFinite(const float* x, int64_t n) {
  uint32_t special = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, x + i, 4);
    special |= (b & 0x7f800000u) == 0x7f800000u ? 1u : 0u;
  }
  return special == 0;
}

SINKSCOPE_CLONES double ProfileFinite(const float* x, int64_t n, float* ch_max, double* ch_sq,
                                      float* abs_max) {
  v4f mx0 = {}, mx1 = {};
  v4d sq0 = {}, sq1 = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v4f a = Load(x + i), b = Load(x + i + 4);
    const v4f ma = Abs(a), mb = Abs(b);
    Store(ch_max + i, Max(Load(ch_max + i), ma));
    Store(ch_max + i + 4, Max(Load(ch_max + i + 4), mb));
    const v4d da = Widen(a), db = Widen(b);
    const v4d qa = da * da, qb = db * db;
    StoreD(ch_sq + i, LoadD(ch_sq + i) + qa);
    StoreD(ch_sq + i + 4, LoadD(ch_sq + i + 4) + qb);
    mx0 = Max(mx0, ma);
    mx1 = Max(mx1, mb);
    sq0 += qa;
    sq1 += qb;
  }
  float mx = 0.0f;
  double sq = 0.0;
  for (; i < n; ++i) {
    const float m = std::fabs(x[i]);
    const double v = x[i];
    ch_max[i] = std::max(ch_max[i], m);
    ch_sq[i] += v * v;
    mx = std::max(mx, m);
    sq += v * v;
  }
  for (int k = 0; k < 4; ++k) {
    mx = std::max({mx, mx0[k], mx1[k]});
    sq += sq0[k] + sq1[k];
  }
  *abs_max = mx;
  return sq;
}

SINKSCOPE_CLONES ErrorSums GroupErrorSums(const float* x, int64_t n, quant::ScaleAndZeroPoint p,
                                          int32_t qmin, int32_t qmax) {
  // quant::QuantizeValue / DequantizeValue per lane: q = RoundHalfEven(x / scale) + zp,
  // clamped; (q - zp) * scale. q is an integer below 2^24, so (float)(int)q == q and
  // (float)((int)q - zp) == q - zp: no int round trip is needed.
  constexpr float kMagic = 12582912.0f;  // as quant::RoundHalfEven
  const v4f scale = {p.scale, p.scale, p.scale, p.scale};
  const float zpf = static_cast<float>(p.zero_point);
  const v4f zp = {zpf, zpf, zpf, zpf};
  const float lo = static_cast<float>(qmin), hi = static_cast<float>(qmax);
  const v4f vlo = {lo, lo, lo, lo}, vhi = {hi, hi, hi, hi};
  const v4f magic = {kMagic, kMagic, kMagic, kMagic};
  const auto approx = [&](v4f v) {
    v4f q = ((v / scale + magic) - magic) + zp;
    q = q < vlo ? vlo : q;
    q = q > vhi ? vhi : q;
    return (q - zp) * scale;
  };
  v4d r2[2] = {}, a2[2] = {}, ra[2] = {}, e2[2] = {}, me[2] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int h = 0; h < 2; ++h) {
      const v4f v = Load(x + i + 4 * h);
      const v4d r = Widen(v), a = Widen(approx(v));
      const v4d d = r - a;
      r2[h] += r * r;
      a2[h] += a * a;
      ra[h] += r * a;
      e2[h] += d * d;
      const v4d ad = d < 0 ? -d : d;
      me[h] = MaxD(me[h], ad);
    }
  }
  ErrorSums s;
  for (; i < n; ++i) {
    const double r = x[i];
    const double a = quant::DequantizeValue(quant::QuantizeValue(x[i], p, qmin, qmax), p);
    const double d = r - a;
    s.ref_sq += r * r;
    s.approx_sq += a * a;
    s.dot += r * a;
    s.err_sq += d * d;
    s.max_abs = std::max(s.max_abs, std::fabs(d));
  }
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      s.ref_sq += r2[h][k];
      s.approx_sq += a2[h][k];
      s.dot += ra[h][k];
      s.err_sq += e2[h][k];
      s.max_abs = std::max(s.max_abs, me[h][k]);
    }
  }
  return s;
}

}  // namespace sinkscope::analysis::internal
