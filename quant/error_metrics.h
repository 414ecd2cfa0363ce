// File: quant/error_metrics.h
//
// error_metrics.h: how far an approximate tensor is from its reference, in double precision.
//
//   mse           = mean (ref - approx)^2
//   sqnr_db       = 10 log10(sum ref^2 / sum (ref - approx)^2)   (+inf when approx == ref)
//   cosine        = <ref, approx> / (|ref| |approx|)              (1 when both are zero)
//   max_abs_error = max |ref - approx|
//   rel_fro_error = |ref - approx|_F / |ref|_F                    (0 when both are zero)
//
// Example:
//   ErrorMetrics e = ComputeErrorMetrics(ViewOf(ref), ViewOf(approx));
//   sinkscope::v1::QuantError p = ToProto(e, "layer0/q_proj");
#ifndef SINKSCOPE_QUANT_ERROR_METRICS_H_
#define SINKSCOPE_QUANT_ERROR_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sinkscope.pb.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

struct ErrorMetrics {
  int64_t count = 0;
  double mse = 0.0;
  double sqnr_db = 0.0;
  double cosine = 1.0;
  double max_abs_error = 0.0;
  double rel_fro_error = 0.0;
  int64_t saturations = 0;  // filled by GEMM callers: int16 pair saturations (see int8_gemm.h)
  int64_t clipped = 0;      // filled by quantizers: elements clamped to the code range
};

// Streaming form: feed (reference, approximation) pairs in any number of pieces.
class ErrorAccumulator {
 public:
  void Add(double reference, double approx);
  void Add(const float* reference, const float* approx, int64_t n);
  // Adds the sums of a piece computed elsewhere (e.g. a vectorised or histogram loop): its count,
  // sum ref^2, sum approx^2, sum ref * approx, sum (ref - approx)^2 and max |ref - approx|.
  void AddSums(int64_t count, double ref_sq, double approx_sq, double dot, double err_sq,
               double max_abs);
  ErrorMetrics Finish() const;

 private:
  int64_t count_ = 0;
  double ref_sq_ = 0.0, approx_sq_ = 0.0, dot_ = 0.0, err_sq_ = 0.0, max_abs_ = 0.0;
};

// Errors: shapes differ. NaN/Inf in either input propagate into the metrics.
absl::StatusOr<ErrorMetrics> ComputeErrorMetrics(const ConstTensorView& reference,
                                                 const ConstTensorView& approx);

sinkscope::v1::QuantError ToProto(const ErrorMetrics& e, absl::string_view name);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_ERROR_METRICS_H_
