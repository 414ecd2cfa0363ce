// File: train/tiny_model_config.cc
#include "train/tiny_model_config.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sinkscope::train {

const char* MaskPatternName(MaskPattern m) {
  switch (m) {
    case MaskPattern::kFull:
      return "full";
    case MaskPattern::kSliding:
      return "sliding";
    case MaskPattern::kAlternating:
      return "alternating";
  }
  return "?";
}

absl::StatusOr<MaskPattern> ParseMaskPattern(absl::string_view name) {
  if (name == "full") return MaskPattern::kFull;
  if (name == "sliding") return MaskPattern::kSliding;
  if (name == "alternating") return MaskPattern::kAlternating;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown mask pattern '", name, "' (full, sliding, alternating)"));
}

int TinyModelConfig::LayerWindow(int layer) const {
  switch (masks) {
    case MaskPattern::kFull:
      return 0;
    case MaskPattern::kSliding:
      return window;
    case MaskPattern::kAlternating:
      return layer % 2 == 0 ? window : 0;
  }
  return 0;
}

absl::Status ValidateTinyConfig(const TinyModelConfig& c) {
  if (c.vocab_size < 2 || c.hidden_size < 2 || c.num_layers < 1 || c.num_heads < 1 ||
      c.num_kv_heads < 1 || c.intermediate_size < 1) {
    return absl::InvalidArgumentError("tiny model: sizes must be positive");
  }
  if (c.hidden_size % c.num_heads != 0 || c.head_dim() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tiny model: hidden_size ", c.hidden_size, " must split into ", c.num_heads,
        " heads of even size"));
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return absl::InvalidArgumentError("tiny model: num_kv_heads must divide num_heads");
  }
  if (c.masks != MaskPattern::kFull && c.window < 1) {
    return absl::InvalidArgumentError("tiny model: window must be >= 1");
  }
  if (c.variant == attention::Variant::kSinkTokens && c.num_sink_tokens < 1) {
    return absl::InvalidArgumentError("tiny model: num_sink_tokens must be >= 1");
  }
  if (c.variant == attention::Variant::kClippedSoftmax &&
      !(c.clip_zeta >= 1.0f && c.clip_gamma <= 0.0f)) {
    return absl::InvalidArgumentError("tiny model: clipped softmax needs zeta >= 1, gamma <= 0");
  }
  return absl::OkStatus();
}

std::string TinyConfigJson(const TinyModelConfig& c, absl::string_view extra) {
  std::vector<std::string> types;
  for (int l = 0; l < c.num_layers; ++l) {
    types.push_back(c.LayerWindow(l) > 0 ? "\"sliding_attention\"" : "\"full_attention\"");
  }
  std::string s = absl::StrCat(
      "{\n  \"model_type\": \"sinkscope\",\n  \"architectures\": [\"SinkscopeTinyForCausalLM\"],\n",
      "  \"attention_variant\": \"", attention::VariantName(c.variant), "\",\n",
      "  \"num_sink_tokens\": ", c.num_sink_tokens, ",\n",
      "  \"clip_zeta\": ", c.clip_zeta, ",\n  \"clip_gamma\": ", c.clip_gamma, ",\n",
      "  \"vocab_size\": ", c.vocab_size, ",\n  \"hidden_size\": ", c.hidden_size, ",\n",
      "  \"num_hidden_layers\": ", c.num_layers, ",\n",
      "  \"num_attention_heads\": ", c.num_heads, ",\n",
      "  \"num_key_value_heads\": ", c.num_kv_heads, ",\n  \"head_dim\": ", c.head_dim(), ",\n",
      "  \"intermediate_size\": ", c.intermediate_size, ",\n",
      "  \"max_position_embeddings\": ", c.max_position_embeddings, ",\n",
      "  \"rms_norm_eps\": ", c.rms_norm_eps, ",\n  \"rope_theta\": ", c.rope_theta, ",\n",
      "  \"hidden_act\": \"silu\",\n  \"tie_word_embeddings\": false,\n",
      "  \"mask_pattern\": \"", MaskPatternName(c.masks), "\",\n",
      "  \"sliding_window\": ",
      c.masks == MaskPattern::kFull ? std::string("null") : absl::StrCat(c.window), ",\n",
      "  \"layer_types\": [", absl::StrJoin(types, ", "), "]");
  if (!extra.empty()) absl::StrAppend(&s, ",\n  ", extra);
  absl::StrAppend(&s, "\n}\n");
  return s;
}

}  // namespace sinkscope::train
