#include "attention/rope_scaling.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sinkscope::attention {
namespace {

constexpr double kPi = 3.14159265358979323846;

// YaRN's g(s, m): 1 for s <= 1, else 0.1 m ln(s) + 1.
double YarnMscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

// The pair index whose wavelength makes `rotations` turns over `context` positions.
double YarnCorrectionDim(double rotations, int head_dim, double theta, double context) {
  return head_dim * std::log(context / (rotations * 2.0 * kPi)) / (2.0 * std::log(theta));
}

void YarnInverseFrequencies(int head_dim, double theta, const RopeScaling& s,
                            std::vector<double>* inv_freq) {
  const double context = static_cast<double>(s.original_max_position_embeddings);
  double low = YarnCorrectionDim(s.beta_fast, head_dim, theta, context);
  double high = YarnCorrectionDim(s.beta_slow, head_dim, theta, context);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(head_dim - 1));
  if (low == high) high += 0.001;  // no singular ramp
  for (size_t i = 0; i < inv_freq->size(); ++i) {
    const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
    const double extrapolation = (*inv_freq)[i];
    const double interpolation = extrapolation / s.factor;
    (*inv_freq)[i] = interpolation * ramp + extrapolation * (1.0 - ramp);
  }
}

void Llama3InverseFrequencies(const RopeScaling& s, std::vector<double>* inv_freq) {
  const double context = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = context / s.low_freq_factor;
  const double high_freq_wavelen = context / s.high_freq_factor;
  for (double& f : *inv_freq) {
    const double wavelen = 2.0 * kPi / f;
    if (wavelen < high_freq_wavelen) continue;  // high frequencies: unchanged
    if (wavelen > low_freq_wavelen) {           // low frequencies: interpolated
      f /= s.factor;
      continue;
    }
    const double smooth =
        (context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    f = (1.0 - smooth) * f / s.factor + smooth * f;
  }
}

}  // namespace

const char* RopeScalingTypeName(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::kNone:
      return "none";
    case RopeScalingType::kLinear:
      return "linear";
    case RopeScalingType::kYarn:
      return "yarn";
    case RopeScalingType::kLlama3:
      return "llama3";
  }
  return "?";
}

absl::StatusOr<RopeScalingType> ParseRopeScalingType(absl::string_view name) {
  if (name == "default") return RopeScalingType::kNone;
  for (RopeScalingType t : {RopeScalingType::kNone, RopeScalingType::kLinear,
                            RopeScalingType::kYarn, RopeScalingType::kLlama3}) {
    if (name == RopeScalingTypeName(t)) return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown RoPE scaling type '", name, "' (supported: none / default, linear, yarn, llama3)"));
}

std::string RopeScaling::ToString() const {
  switch (type) {
    case RopeScalingType::kNone:
      return "none";
    case RopeScalingType::kLinear:
      return absl::StrCat("linear(factor ", factor, ")");
    case RopeScalingType::kYarn:
      return absl::StrCat("yarn(factor ", factor, ", beta ", beta_fast, "/", beta_slow, ", L ",
                          original_max_position_embeddings, truncate ? ", truncate" : "",
                          ", attention_factor ", RopeAttentionFactor(*this), ")");
    case RopeScalingType::kLlama3:
      return absl::StrCat("llama3(factor ", factor, ", freq factors ", low_freq_factor, "/",
                          high_freq_factor, ", L ", original_max_position_embeddings, ")");
  }
  return "?";
}

bool RopeScaling::operator==(const RopeScaling& o) const {
  return type == o.type && factor == o.factor && beta_fast == o.beta_fast &&
         beta_slow == o.beta_slow && truncate == o.truncate &&
         attention_factor == o.attention_factor && mscale == o.mscale &&
         mscale_all_dim == o.mscale_all_dim && low_freq_factor == o.low_freq_factor &&
         high_freq_factor == o.high_freq_factor &&
         original_max_position_embeddings == o.original_max_position_embeddings;
}

absl::Status ValidateRopeScaling(const RopeScaling& s) {
  if (s.is_none()) return absl::OkStatus();
  const auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("rope scaling ", RopeScalingTypeName(s.type), ": ", what));
  };
  const auto positive = [](double v) { return std::isfinite(v) && v > 0.0; };
  const auto non_negative = [](double v) { return std::isfinite(v) && v >= 0.0; };
  if (!std::isfinite(s.factor) || s.factor < 1.0) {
    return bad(absl::StrCat("factor must be finite and >= 1, got ", s.factor));
  }
  if (s.type != RopeScalingType::kYarn &&
      (s.attention_factor != 0.0 || s.mscale != 0.0 || s.mscale_all_dim != 0.0)) {
    return bad("attention_factor, mscale and mscale_all_dim apply to yarn only");
  }
  if (s.type == RopeScalingType::kYarn) {
    if (!positive(s.beta_fast) || !positive(s.beta_slow)) {
      return bad(absl::StrCat("beta_fast and beta_slow must be positive, got ", s.beta_fast,
                              " and ", s.beta_slow));
    }
    if (s.beta_fast < s.beta_slow) {
      return bad(absl::StrCat("beta_fast (", s.beta_fast, ") must be >= beta_slow (",
                              s.beta_slow, ")"));
    }
    if (!non_negative(s.attention_factor)) {
      return bad(absl::StrCat("attention_factor must be > 0 (or 0: derived from factor), got ",
                              s.attention_factor));
    }
    if (!non_negative(s.mscale) || !non_negative(s.mscale_all_dim)) {
      return bad(absl::StrCat("mscale and mscale_all_dim must be >= 0 (0: absent), got ",
                              s.mscale, " and ", s.mscale_all_dim));
    }
  }
  if (s.type == RopeScalingType::kLlama3) {
    if (!positive(s.low_freq_factor) || !std::isfinite(s.high_freq_factor) ||
        s.high_freq_factor <= s.low_freq_factor) {
      return bad(absl::StrCat("needs 0 < low_freq_factor < high_freq_factor, got ",
                              s.low_freq_factor, " and ", s.high_freq_factor));
    }
  }
  if ((s.type == RopeScalingType::kYarn || s.type == RopeScalingType::kLlama3) &&
      s.original_max_position_embeddings <= 0) {
    return bad(absl::StrCat("original_max_position_embeddings must be positive, got ",
                            s.original_max_position_embeddings));
  }
  return absl::OkStatus();
}

double RopeAttentionFactor(const RopeScaling& s) {
  if (s.type != RopeScalingType::kYarn) return 1.0;
  if (s.attention_factor > 0.0) return s.attention_factor;
  if (s.mscale > 0.0 && s.mscale_all_dim > 0.0) {
    return YarnMscale(s.factor, s.mscale) / YarnMscale(s.factor, s.mscale_all_dim);
  }
  return YarnMscale(s.factor, 1.0);
}

RopeFrequencies ComputeRopeFrequencies(int head_dim, double theta, const RopeScaling& s) {
  RopeFrequencies f;
  f.inv_freq.resize(head_dim / 2);
  for (int i = 0; i < head_dim / 2; ++i) f.inv_freq[i] = std::pow(theta, -2.0 * i / head_dim);
  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kLinear:
      for (double& x : f.inv_freq) x /= s.factor;
      break;
    case RopeScalingType::kYarn:
      YarnInverseFrequencies(head_dim, theta, s, &f.inv_freq);
      break;
    case RopeScalingType::kLlama3:
      Llama3InverseFrequencies(s, &f.inv_freq);
      break;
  }
  f.attention_factor = RopeAttentionFactor(s);
  return f;
}

}  // namespace sinkscope::attention
