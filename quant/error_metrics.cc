#include "quant/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {

absl::StatusOr<ErrorMetrics> ComputeErrorMetrics(const ConstTensorView& ref,
                                                 const ConstTensorView& approx) {
  if (ref.shape != approx.shape) {
    return absl::InvalidArgumentError(absl::StrCat("error metrics: reference shape ",
                                                   ShapeToString(ref.shape),
                                                   " != approximation shape ",
                                                   ShapeToString(approx.shape)));
  }
  ErrorMetrics e;
  e.count = ref.size();
  double ref_sq = 0.0, approx_sq = 0.0, dot = 0.0, err_sq = 0.0, max_abs = 0.0;
  for (int64_t i = 0; i < e.count; ++i) {
    const double r = ref.data[i];
    const double a = approx.data[i];
    const double d = r - a;
    ref_sq += r * r;
    approx_sq += a * a;
    dot += r * a;
    err_sq += d * d;
    max_abs = std::max(max_abs, std::fabs(d));
    if (std::isnan(d)) max_abs = d;
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  e.mse = e.count > 0 ? err_sq / static_cast<double>(e.count) : 0.0;
  e.max_abs_error = max_abs;
  if (err_sq == 0.0) {
    e.sqnr_db = kInf;
  } else {
    e.sqnr_db = ref_sq > 0.0 ? 10.0 * std::log10(ref_sq / err_sq) : -kInf;
  }
  if (ref_sq == 0.0 && approx_sq == 0.0) {
    e.cosine = 1.0;
  } else if (ref_sq == 0.0 || approx_sq == 0.0) {
    e.cosine = 0.0;
  } else {
    e.cosine = dot / (std::sqrt(ref_sq) * std::sqrt(approx_sq));
  }
  if (ref_sq > 0.0) {
    e.rel_fro_error = std::sqrt(err_sq / ref_sq);
  } else {
    e.rel_fro_error = err_sq == 0.0 ? 0.0 : kInf;
  }
  return e;
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
