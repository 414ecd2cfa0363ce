#include "attention/attention_spec.h"

#include "absl/strings/str_cat.h"

namespace sinkscope::attention {

const char* VariantName(Variant v) {
  switch (v) {
    case Variant::kVanilla:
      return "vanilla";
    case Variant::kSinkTokens:
      return "sink_tokens";
    case Variant::kKvBias:
      return "kv_bias";
    case Variant::kSinkLogit:
      return "sink_logit";
    case Variant::kSoftmax1:
      return "softmax1";
    case Variant::kClippedSoftmax:
      return "clipped_softmax";
    case Variant::kGated:
      return "gated";
    case Variant::kSigmoid:
      return "sigmoid";
  }
  return "?";
}

absl::StatusOr<Variant> ParseVariant(absl::string_view name) {
  for (Variant v : {Variant::kVanilla, Variant::kSinkTokens, Variant::kKvBias, Variant::kSinkLogit,
                    Variant::kSoftmax1, Variant::kClippedSoftmax, Variant::kGated,
                    Variant::kSigmoid}) {
    if (name == VariantName(v)) return v;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown attention variant '", name,
      "' (vanilla, sink_tokens, kv_bias, sink_logit, softmax1, clipped_softmax, gated, sigmoid)"));
}

const char* RopeLayoutName(RopeLayout l) {
  return l == RopeLayout::kInterleaved ? "interleaved" : "rotate_half";
}

absl::StatusOr<RopeLayout> ParseRopeLayout(absl::string_view name) {
  if (name == "interleaved") return RopeLayout::kInterleaved;
  if (name == "rotate_half") return RopeLayout::kRotateHalf;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown rope_layout '", name, "' (rotate_half or interleaved)"));
}

std::string AttentionSpec::ToString() const {
  std::string mask_text = mask == MaskKind::kCausal    ? "causal"
                          : mask == MaskKind::kSliding ? absl::StrCat("sliding(", window, ")")
                                                       : "full";
  return absl::StrCat("d_model ", d_model, ", ", num_heads, " heads / ", num_kv_heads,
                      " kv heads x ", head_dim, ", ", mask_text, ", ", VariantName(variant),
                      rope_theta > 0 ? absl::StrCat(", rope ", RopeLayoutName(rope_layout),
                                                    " theta ", rope_theta,
                                                    rope_scaling.is_none()
                                                        ? ""
                                                        : absl::StrCat(" scaling ",
                                                                       rope_scaling.ToString()))
                                     : ", no rope");
}

absl::Status ValidateSpec(const AttentionSpec& s) {
  const auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("attention spec: ", what));
  };
  if (s.d_model <= 0 || s.num_heads <= 0 || s.num_kv_heads <= 0 || s.head_dim <= 0) {
    return bad("d_model, num_heads, num_kv_heads and head_dim must be positive");
  }
  if (s.num_heads % s.num_kv_heads != 0) {
    return bad(absl::StrCat("num_heads ", s.num_heads, " is not a multiple of num_kv_heads ",
                            s.num_kv_heads));
  }
  if (s.rope_theta < 0.0f) return bad("rope_theta must be >= 0");
  if (s.rope_theta > 0.0f && s.head_dim % 2 != 0) return bad("RoPE needs an even head_dim");
  if (s.rope_theta == 0.0f && !s.rope_scaling.is_none()) {
    return bad(absl::StrCat("rope_scaling ", s.rope_scaling.ToString(),
                            " without RoPE (rope_theta 0)"));
  }
  if (absl::Status st = ValidateRopeScaling(s.rope_scaling); !st.ok()) return bad(st.message());
  if (s.rope_scaling.type == RopeScalingType::kYarn && !(s.rope_theta > 1.0f)) {
    return bad(absl::StrCat("yarn RoPE scaling needs rope_theta > 1, got ", s.rope_theta));
  }
  if (s.mask == MaskKind::kSliding && s.window <= 0) return bad("a sliding window needs window > 0");
  if (s.variant == Variant::kSinkTokens && s.num_sink_tokens <= 0) {
    return bad("the sink_tokens variant needs num_sink_tokens > 0");
  }
  if (s.variant == Variant::kClippedSoftmax && (s.clip_zeta < 1.0f || s.clip_gamma > 0.0f)) {
    return bad("clipped softmax needs zeta >= 1 and gamma <= 0");
  }
  if (!(s.softmax_scale >= 0.0f) || !std::isfinite(s.softmax_scale)) {
    return bad("softmax_scale must be finite and >= 0");
  }
  return absl::OkStatus();
}

}  // namespace sinkscope::attention
