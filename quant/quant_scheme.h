// File: quant/quant_scheme.h
//
// quant_scheme.h: how a tensor is quantized: bit width, symmetry, granularity (which elements
// share a scale) and calibration (how the clipping range is chosen).
//
// Code ranges (the numeric contract, see quant/README.md):
//   symmetric,  b bits: codes in [-(2^(b-1) - 1), 2^(b-1) - 1], zero point 0 (int8: [-127, 127]);
//   asymmetric, b bits: codes in [0, 2^b - 1] with an integer zero point (int8: [0, 255]).
//
// Example:
//   QuantScheme w = QuantScheme::PerChannel(/*axis=*/1);          // int8 sym per output column
//   QuantScheme x = QuantScheme::PerToken().Asymmetric();          // int8 asym per row
//   QuantScheme g = QuantScheme::PerGroup(/*axis=*/0, 128).WithBits(4).WithMseClip();
#ifndef SINKSCOPE_QUANT_QUANT_SCHEME_H_
#define SINKSCOPE_QUANT_QUANT_SCHEME_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "proto/sinkscope.pb.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

enum class Granularity {
  kPerTensor,   // one scale for the whole tensor
  kPerChannel,  // one scale per index along `axis`
  kPerToken,    // one scale per row: per index of every axis but the last
  kPerGroup,    // one scale per `group_size` consecutive elements along `axis`
};

enum class Calibration {
  kMinMax,      // range = [min, max] of the values
  kPercentile,  // range clipped at the `percentile`-th percentile (of |x| when symmetric)
  kMse,         // range clipped at the ratio of [min, max] that minimises quantization MSE
};

struct QuantScheme {
  int bits = 8;
  bool symmetric = true;
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;         // kPerChannel, kPerGroup; negative counts from the end
  int group_size = 0;   // kPerGroup
  Calibration calibration = Calibration::kMinMax;
  double percentile = 99.99;  // kPercentile, in (50, 100]
  int mse_candidates = 100;   // kMse: clip ratios 1, 1 - 1/n, ..., 1/n are tried

  static QuantScheme PerTensor() { return QuantScheme{}; }
  static QuantScheme PerChannel(int axis) {
    QuantScheme s;
    s.granularity = Granularity::kPerChannel;
    s.axis = axis;
    return s;
  }
  static QuantScheme PerToken() {
    QuantScheme s;
    s.granularity = Granularity::kPerToken;
    return s;
  }
  static QuantScheme PerGroup(int axis, int group_size) {
    QuantScheme s;
    s.granularity = Granularity::kPerGroup;
    s.axis = axis;
    s.group_size = group_size;
    return s;
  }
  QuantScheme WithBits(int b) const {
    QuantScheme s = *this;
    s.bits = b;
    return s;
  }
  QuantScheme Asymmetric() const {
    QuantScheme s = *this;
    s.symmetric = false;
    return s;
  }
  QuantScheme WithPercentile(double p) const {
    QuantScheme s = *this;
    s.calibration = Calibration::kPercentile;
    s.percentile = p;
    return s;
  }
  QuantScheme WithMseClip(int candidates = 100) const {
    QuantScheme s = *this;
    s.calibration = Calibration::kMse;
    s.mse_candidates = candidates;
    return s;
  }

  // Smallest and largest code.
  int32_t qmin() const { return symmetric ? -((1 << (bits - 1)) - 1) : 0; }
  int32_t qmax() const { return symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }

  // "int8 sym per-channel(axis=1) min-max".
  std::string ToString() const;
};

// Checks the scheme's own fields (bits in 2..8, group size > 0, percentile in (50, 100], ...).
absl::Status ValidateScheme(const QuantScheme& scheme);

// Checks the scheme against a tensor shape (axis in range) and returns the axis made
// non-negative in *resolved_axis (unused for per-tensor and per-token).
absl::Status ValidateSchemeForShape(const QuantScheme& scheme, const Shape& shape,
                                    int* resolved_axis);

sinkscope::v1::QuantScheme ToProto(const QuantScheme& scheme);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_QUANT_SCHEME_H_
