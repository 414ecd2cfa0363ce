#include "quant/quant_scheme.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sinkscope::quant {

std::string QuantScheme::ToString() const {
  std::string g;
  switch (granularity) {
    case Granularity::kPerTensor:
      g = "per-tensor";
      break;
    case Granularity::kPerChannel:
      g = absl::StrCat("per-channel(axis=", axis, ")");
      break;
    case Granularity::kPerToken:
      g = "per-token";
      break;
    case Granularity::kPerGroup:
      g = absl::StrCat("per-group(axis=", axis, ",g=", group_size, ")");
      break;
  }
  std::string c;
  switch (calibration) {
    case Calibration::kMinMax:
      c = "min-max";
      break;
    case Calibration::kPercentile:
      c = absl::StrFormat("p%g", percentile);
      break;
    case Calibration::kMse:
      c = "mse-clip";
      break;
  }
  return absl::StrCat("int", bits, " ", symmetric ? "sym" : "asym", " ", g, " ", c);
}

absl::Status ValidateScheme(const QuantScheme& s) {
  if (s.bits < 2 || s.bits > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("quant scheme: bits must be in 2..8, got ", s.bits));
  }
  if (s.granularity == Granularity::kPerGroup && s.group_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("quant scheme: per-group needs group_size > 0, got ", s.group_size));
  }
  if (s.calibration == Calibration::kPercentile &&
      !(s.percentile > 50.0 && s.percentile <= 100.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("quant scheme: percentile must be in (50, 100], got ", s.percentile));
  }
  if (s.calibration == Calibration::kMse && (s.mse_candidates < 1 || s.mse_candidates > 100000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quant scheme: mse_candidates must be in 1..100000, got ", s.mse_candidates));
  }
  return absl::OkStatus();
}

absl::Status ValidateSchemeForShape(const QuantScheme& s, const Shape& shape, int* resolved_axis) {
  if (absl::Status st = ValidateScheme(s); !st.ok()) return st;
  const int rank = static_cast<int>(shape.size());
  *resolved_axis = 0;
  if (s.granularity == Granularity::kPerToken && rank < 1) {
    return absl::InvalidArgumentError("quant scheme: per-token needs a tensor of rank >= 1");
  }
  if (s.granularity == Granularity::kPerChannel || s.granularity == Granularity::kPerGroup) {
    const int axis = s.axis < 0 ? s.axis + rank : s.axis;
    if (axis < 0 || axis >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("quant scheme: axis ", s.axis,
                                                     " out of range for shape ",
                                                     ShapeToString(shape)));
    }
    *resolved_axis = axis;
  }
  return absl::OkStatus();
}

sinkscope::v1::QuantScheme ToProto(const QuantScheme& s) {
  sinkscope::v1::QuantScheme p;
  p.set_bits(s.bits);
  p.set_symmetric(s.symmetric);
  switch (s.granularity) {
    case Granularity::kPerTensor:
      p.set_granularity(sinkscope::v1::QuantScheme::PER_TENSOR);
      break;
    case Granularity::kPerChannel:
      p.set_granularity(sinkscope::v1::QuantScheme::PER_CHANNEL);
      break;
    case Granularity::kPerToken:
      p.set_granularity(sinkscope::v1::QuantScheme::PER_TOKEN);
      break;
    case Granularity::kPerGroup:
      p.set_granularity(sinkscope::v1::QuantScheme::PER_GROUP);
      break;
  }
  p.set_axis(s.axis);
  p.set_group_size(s.group_size);
  switch (s.calibration) {
    case Calibration::kMinMax:
      p.set_calibration(sinkscope::v1::QuantScheme::MIN_MAX);
      break;
    case Calibration::kPercentile:
      p.set_calibration(sinkscope::v1::QuantScheme::PERCENTILE);
      p.set_percentile(s.percentile);
      break;
    case Calibration::kMse:
      p.set_calibration(sinkscope::v1::QuantScheme::MSE);
      break;
  }
  p.set_description(s.ToString());
  return p;
}

}  // namespace sinkscope::quant
