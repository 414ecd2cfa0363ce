#include "quant/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {

void ErrorAccumulator::Add(double r, double a) {
  const double d = r - a;
  ++count_;
  ref_sq_ += r * r;
  approx_sq_ += a * a;
  dot_ += r * a;
  err_sq_ += d * d;
  max_abs_ = std::max(max_abs_, std::fabs(d));
  if (std::isnan(d)) max_abs_ = d;
}

void ErrorAccumulator::Add(const float* reference, const float* approx, int64_t n) {
  // Local accumulators: one pass without per-element calls (same sums as Add(double, double)).
  double ref_sq = 0.0, approx_sq = 0.0, dot = 0.0, err_sq = 0.0, max_abs = max_abs_;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    const double r = reference[i], a = approx[i], d = r - a;
    ref_sq += r * r;
    approx_sq += a * a;
    dot += r * a;
    err_sq += d * d;
    max_abs = std::max(max_abs, std::fabs(d));
    nan |= d != d;
  }
  count_ += n;
  ref_sq_ += ref_sq;
  approx_sq_ += approx_sq;
  dot_ += dot;
  err_sq_ += err_sq;
  max_abs_ = nan ? std::numeric_limits<double>::quiet_NaN() : max_abs;
}

void ErrorAccumulator::AddSums(int64_t count, double ref_sq, double approx_sq, double dot,
                               double err_sq, double max_abs) {
  count_ += count;
  ref_sq_ += ref_sq;
  approx_sq_ += approx_sq;
  dot_ += dot;
  err_sq_ += err_sq;
  if (std::isnan(max_abs) || std::isnan(max_abs_)) {
    max_abs_ = std::numeric_limits<double>::quiet_NaN();
  } else {
    max_abs_ = std::max(max_abs_, max_abs);
  }
}

ErrorMetrics ErrorAccumulator::Finish() const {
  ErrorMetrics e;
  e.count = count_;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  e.mse = count_ > 0 ? err_sq_ / static_cast<double>(count_) : 0.0;
  e.max_abs_error = max_abs_;
  if (err_sq_ == 0.0) {
    e.sqnr_db = kInf;
  } else {
    e.sqnr_db = ref_sq_ > 0.0 ? 10.0 * std::log10(ref_sq_ / err_sq_) : -kInf;
  }
  if (ref_sq_ == 0.0 && approx_sq_ == 0.0) {
    e.cosine = 1.0;
  } else if (ref_sq_ == 0.0 || approx_sq_ == 0.0) {
    e.cosine = 0.0;
  } else {
    e.cosine = dot_ / (std::sqrt(ref_sq_) * std::sqrt(approx_sq_));
  }
  if (ref_sq_ > 0.0) {
    e.rel_fro_error = std::sqrt(err_sq_ / ref_sq_);
  } else {
    e.rel_fro_error = err_sq_ == 0.0 ? 0.0 : kInf;
  }
  return e;
}

absl::StatusOr<ErrorMetrics> ComputeErrorMetrics(const ConstTensorView& ref,
                                                 const ConstTensorView& approx) {
  if (ref.shape != approx.shape) {
    return absl::InvalidArgumentError(absl::StrCat("error metrics: reference shape ",
                                                   ShapeToString(ref.shape),
                                                   " != approximation shape ",
                                                   ShapeToString(approx.shape)));
  }
  ErrorAccumulator acc;
  acc.Add(ref.data, approx.data, ref.size());
  return acc.Finish();
}

sinkscope::v1::QuantError ToProto(const ErrorMetrics& e, absl::string_view name) {
  sinkscope::v1::QuantError p;
  p.set_name(std::string(name));
  p.set_mse(e.mse);
  p.set_sqnr_db(e.sqnr_db);
  p.set_cosine(e.cosine);
  p.set_max_abs_error(e.max_abs_error);
  p.set_rel_fro_error(e.rel_fro_error);
  p.set_saturations(e.saturations);
  p.set_clipped(e.clipped);
  return p;
}

}  // namespace sinkscope::quant
