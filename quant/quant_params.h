// File: quant/quant_params.h
//
// quant_params.h: the scales and zero points of one tensor under one scheme, and which
// parameter each element uses.
//
// The tensor (row-major, any rank) is viewed as [outer, n, inner] around the scheme's axis:
//   per-tensor:  1 parameter;
//   per-channel: n parameters (index i);
//   per-token:   one per row = every index of all axes but the last (n = last dimension);
//   per-group:   outer * ceil(n / g) * inner parameters, g consecutive elements along the axis.
//
// Example:
//   FloatMatrix w = ...;                                        // [in, out]
//   absl::StatusOr<QuantParams> p =
//       ComputeQuantParams(ViewOf(w), QuantScheme::PerChannel(1), "layer0.w_q");
//   float s = p->scales[p->ParamIndex(/*flat=*/5)];
#ifndef SINKSCOPE_QUANT_QUANT_PARAMS_H_
#define SINKSCOPE_QUANT_QUANT_PARAMS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "quant/calibration.h"
#include "quant/quant_scheme.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

// Element -> parameter mapping of a scheme over a shape.
struct ParamLayout {
  Granularity granularity = Granularity::kPerTensor;
  int64_t outer = 1, n = 1, inner = 1;  // the tensor as [outer, n, inner]
  int64_t group_size = 1;               // per-group only
  int64_t groups_along_axis = 1;        // ceil(n / group_size), per-group only
  int64_t num_params = 1;

  // Parameter of element (o, i, j) of the [outer, n, inner] view.
  int64_t Index(int64_t o, int64_t i, int64_t j) const {
    switch (granularity) {
      case Granularity::kPerTensor:
        return 0;
      case Granularity::kPerChannel:
        return i;
      case Granularity::kPerToken:
        return o;
      case Granularity::kPerGroup:
        return (o * groups_along_axis + i / group_size) * inner + j;
    }
    return 0;
  }
  // Calls fn(start, length, param, param_stride) over consecutive runs covering the tensor in
  // row-major order: element start + k uses parameter param + k * param_stride. Runs are as
  // long as the layout allows (the whole tensor for per-tensor, a row for per-token), so loops
  // over a run vectorise.
  template <typename Fn>
  void ForEachRun(Fn&& fn) const {
    switch (granularity) {
      case Granularity::kPerTensor:
        fn(int64_t{0}, outer * n * inner, int64_t{0}, int64_t{0});
        return;
      case Granularity::kPerToken:
        for (int64_t o = 0; o < outer; ++o) fn(o * n, n, o, int64_t{0});
        return;
      case Granularity::kPerChannel:
        for (int64_t o = 0; o < outer; ++o) {
          for (int64_t i = 0; i < n; ++i) fn((o * n + i) * inner, inner, i, int64_t{0});
        }
        return;
      case Granularity::kPerGroup:
        for (int64_t o = 0; o < outer; ++o) {
          if (inner == 1) {
            for (int64_t i = 0; i < n; i += group_size) {
              fn(o * n + i, std::min(group_size, n - i), o * groups_along_axis + i / group_size,
                 int64_t{0});
            }
          } else {
            for (int64_t i = 0; i < n; ++i) {
              fn((o * n + i) * inner, inner, (o * groups_along_axis + i / group_size) * inner,
                 int64_t{1});
            }
          }
        }
        return;
    }
  }
  // Parameter of the element at row-major offset `flat`.
  int64_t IndexOfFlat(int64_t flat) const {
    const int64_t j = flat % inner;
    const int64_t rest = flat / inner;
    return Index(rest / n, rest % n, j);
  }
};

// Validates the scheme against `shape` and builds its layout.
absl::StatusOr<ParamLayout> MakeParamLayout(const QuantScheme& scheme, const Shape& shape);

struct QuantParams {
  QuantScheme scheme;
  Shape shape;
  ParamLayout layout;
  std::vector<float> scales;        // layout.num_params entries, all > 0
  std::vector<int32_t> zero_points; // layout.num_params entries (all 0 when symmetric)

  ScaleAndZeroPoint Param(int64_t index) const { return {scales[index], zero_points[index]}; }
  int64_t ParamIndex(int64_t flat) const { return layout.IndexOfFlat(flat); }
};

// Calibrates `tensor` under `scheme`. Errors (naming `tensor_name`): an invalid scheme, an
// axis out of range, an empty tensor, or a NaN/Inf element (with its coordinates).
absl::StatusOr<QuantParams> ComputeQuantParams(const ConstTensorView& tensor,
                                               const QuantScheme& scheme,
                                               absl::string_view tensor_name);

// OK when every element is finite; else an InvalidArgument naming the tensor and the first
// offending element's coordinates.
absl::Status CheckFinite(const ConstTensorView& tensor, absl::string_view tensor_name);

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_QUANT_PARAMS_H_
