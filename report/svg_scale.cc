// svg_scale.cc: linear and log10 scales with nice ticks.
#include "report/svg_scale.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace sinkscope::analysis::svg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

Scale Scale::Linear(const std::vector<double>& values, bool include_zero, bool tight) {
  double lo = kInf;
  double hi = -kInf;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    v = std::clamp(v, -1e300, 1e300);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (include_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  if (!(lo <= hi)) {
    lo = 0.0;
    hi = 1.0;
  }
  if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Scale s;
  s.step_ = NiceStep((hi - lo) / 5.0);
  s.lo_ = tight ? lo : std::floor(lo / s.step_) * s.step_;
  s.hi_ = tight ? hi : std::ceil(hi / s.step_) * s.step_;
  if (!(s.hi_ > s.lo_)) s.hi_ = s.lo_ + s.step_;
  return s;
}

Scale Scale::Log(const std::vector<double>& values) {
  double lo = kInf;
  double hi = 0.0;
  for (double v : values) {
    if (!std::isfinite(v) || v <= 0.0) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) {
    lo = 1.0;
    hi = 10.0;
  }
  Scale s;
  s.log_ = true;
  s.lo_exp_ = std::max(-300, static_cast<int>(std::floor(std::log10(lo))));
  s.hi_exp_ = std::min(300, static_cast<int>(std::ceil(std::log10(hi))));
  if (s.hi_exp_ <= s.lo_exp_) s.hi_exp_ = s.lo_exp_ + 1;
  s.lo_ = std::pow(10.0, s.lo_exp_);
  s.hi_ = std::pow(10.0, s.hi_exp_);
  s.step_ = std::max(1, (s.hi_exp_ - s.lo_exp_ + 7) / 8);  // at most ~9 labelled decades
  return s;
}

double Scale::operator()(double v) const {
  double t;
  if (log_) {
    const double x = (std::isnan(v) || v <= 0.0) ? lo_exp_ : std::log10(v);
    t = (x - lo_exp_) / (hi_exp_ - lo_exp_);
  } else {
    t = std::isnan(v) ? 0.0 : (v - lo_) / (hi_ - lo_);
  }
  if (std::isnan(t)) t = 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return px_lo_ + t * (px_hi_ - px_lo_);
}

std::vector<double> Scale::Ticks() const {
  std::vector<double> ticks;
  if (log_) {
    for (int e = lo_exp_; e <= hi_exp_; e += static_cast<int>(step_)) {
      ticks.push_back(std::pow(10.0, e));
    }
    return ticks;
  }
  const double first = std::ceil(lo_ / step_ - 1e-9) * step_;
  const int64_t n = static_cast<int64_t>(std::floor((hi_ - first) / step_ + 1e-9));
  for (int64_t i = 0; i <= n && i <= 50; ++i) {
    double t = first + static_cast<double>(i) * step_;
    if (std::abs(t) < step_ * 1e-9) t = 0.0;
    ticks.push_back(t);
  }
  return ticks;
}

double Scale::NiceStep(double raw) {
  if (!(raw > 0.0) || !std::isfinite(raw)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * p;
}

}  // namespace sinkscope::analysis::svg
