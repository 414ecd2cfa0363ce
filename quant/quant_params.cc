#include "quant/quant_params.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sinkscope::quant {
namespace {

std::string Coordinates(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return "[" + absl::StrJoin(idx, ", ") + "]";
}

}  // namespace

absl::Status CheckFinite(const ConstTensorView& t, absl::string_view name) {
  const int64_t size = t.size();
  // Fast pass (vectorises): x - x is 0 for finite x, NaN for NaN and Inf.
  float probe = 0.0f;
  for (int64_t k = 0; k < size; ++k) probe += t.data[k] - t.data[k];
  if (probe == 0.0f) return absl::OkStatus();
  for (int64_t k = 0; k < size; ++k) {
    if (!std::isfinite(t.data[k])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", name, "' ", ShapeToString(t.shape), ": element ", Coordinates(t.shape, k),
          " is ", std::isnan(t.data[k]) ? "NaN" : "Inf",
          "; cannot choose a quantization scale"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ParamLayout> MakeParamLayout(const QuantScheme& scheme, const Shape& shape) {
  int axis = 0;
  if (absl::Status st = ValidateSchemeForShape(scheme, shape, &axis); !st.ok()) return st;
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError("negative dimension in " + ShapeToString(shape));
  }
  ParamLayout l;
  l.granularity = scheme.granularity;
  const int64_t total = NumElements(shape);
  switch (scheme.granularity) {
    case Granularity::kPerTensor:
      l.outer = 1;
      l.n = total;
      l.inner = 1;
      l.num_params = 1;
      break;
    case Granularity::kPerToken:
      l.n = shape.back();
      l.outer = l.n > 0 ? total / l.n : 0;
      l.inner = 1;
      l.num_params = l.outer;
      break;
    case Granularity::kPerChannel:
    case Granularity::kPerGroup: {
      l.outer = 1;
      for (int d = 0; d < axis; ++d) l.outer *= shape[d];
      l.n = shape[axis];
      l.inner = 1;
      for (size_t d = axis + 1; d < shape.size(); ++d) l.inner *= shape[d];
      if (scheme.granularity == Granularity::kPerChannel) {
        l.num_params = l.n;
      } else {
        l.group_size = scheme.group_size;
        l.groups_along_axis = (l.n + l.group_size - 1) / l.group_size;
        l.num_params = l.outer * l.groups_along_axis * l.inner;
      }
      break;
    }
  }
  return l;
}

absl::StatusOr<QuantParams> ComputeQuantParams(const ConstTensorView& t, const QuantScheme& scheme,
                                               absl::string_view name) {
  absl::StatusOr<ParamLayout> layout = MakeParamLayout(scheme, t.shape);
  if (!layout.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "': ", layout.status().message()));
  }
  if (t.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "' ", ShapeToString(t.shape), " is empty"));
  }
  if (absl::Status st = CheckFinite(t, name); !st.ok()) return st;

  QuantParams params;
  params.scheme = scheme;
  params.shape = t.shape;
  params.layout = *layout;
  const ParamLayout& l = params.layout;
  params.scales.resize(l.num_params);
  params.zero_points.resize(l.num_params);

  if (scheme.calibration == Calibration::kMinMax) {
    std::vector<float> lo(l.num_params, std::numeric_limits<float>::infinity());
    std::vector<float> hi(l.num_params, -std::numeric_limits<float>::infinity());
    l.ForEachRun([&](int64_t start, int64_t len, int64_t p, int64_t stride) {
      const float* x = t.data + start;
      if (stride == 0) {
        float a = lo[p], b = hi[p];
        for (int64_t k = 0; k < len; ++k) {
          a = std::min(a, x[k]);
          b = std::max(b, x[k]);
        }
        lo[p] = a;
        hi[p] = b;
      } else {
        for (int64_t k = 0; k < len; ++k) {
          lo[p + k] = std::min(lo[p + k], x[k]);
          hi[p + k] = std::max(hi[p + k], x[k]);
        }
      }
    });
    for (int64_t p = 0; p < l.num_params; ++p) {
      const ScaleAndZeroPoint sz = CalibrateMinMax(lo[p], hi[p], scheme);
      params.scales[p] = sz.scale;
      params.zero_points[p] = sz.zero_point;
    }
    return params;
  }

  // Percentile and MSE need each group's values together.
  std::vector<std::vector<float>> groups(l.num_params);
  const int64_t per_group = std::max<int64_t>(1, t.size() / l.num_params);
  for (auto& g : groups) g.reserve(per_group);
  int64_t flat = 0;
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t i = 0; i < l.n; ++i) {
      for (int64_t j = 0; j < l.inner; ++j, ++flat) {
        groups[l.Index(o, i, j)].push_back(t.data[flat]);
      }
    }
  }
  for (int64_t p = 0; p < l.num_params; ++p) {
    const ScaleAndZeroPoint sz = CalibrateGroup(absl::MakeSpan(groups[p]), scheme);
    params.scales[p] = sz.scale;
    params.zero_points[p] = sz.zero_point;
  }
  return params;
}

}  // namespace sinkscope::quant
