#include "model/model_config.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sinkscope::model {
namespace {

absl::Status KeyError(absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("config.json: key '", key, "' ", what));
}

// Reads typed members of the config object; null counts as absent.
class ConfigReader {
 public:
  // `prefix` names a nested object in errors ("rope_scaling." -> 'rope_scaling.factor').
  explicit ConfigReader(const JsonValue& root, std::string prefix = "")
      : root_(root), prefix_(std::move(prefix)) {}

  const JsonValue* Get(absl::string_view key) const {
    const JsonValue* v = root_.Find(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  absl::StatusOr<std::optional<int64_t>> OptionalInt(absl::string_view key) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return std::optional<int64_t>();
    if (!v->is_number()) {
      return KeyError(Name(key), absl::StrCat("must be an integer, got ",
                                              JsonValue::TypeName(v->type())));
    }
    absl::StatusOr<int64_t> i = v->AsInt64();
    if (!i.ok()) {
      return KeyError(Name(key), absl::StrCat("must be an integer, got ", v->string_value()));
    }
    return std::optional<int64_t>(*i);
  }

  // A positive int (fits int32); `fallback` when absent, or an error when there is none.
  absl::StatusOr<int> PositiveInt(absl::string_view key,
                                  std::optional<int> fallback = std::nullopt) const {
    absl::StatusOr<std::optional<int64_t>> v = OptionalInt(key);
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      if (fallback.has_value()) return *fallback;
      return KeyError(Name(key), "is missing (required)");
    }
    const int64_t i = **v;
    if (i <= 0 || i > (int64_t{1} << 30)) {
      return KeyError(Name(key), absl::StrCat("must be a positive integer, got ", i));
    }
    return static_cast<int>(i);
  }

  absl::StatusOr<double> PositiveNumber(absl::string_view key, std::optional<double> fallback) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) {
      if (fallback.has_value()) return *fallback;
      return KeyError(Name(key), "is missing (required)");
    }
    if (!v->is_number()) {
      return KeyError(Name(key),
                      absl::StrCat("must be a number, got ", JsonValue::TypeName(v->type())));
    }
    if (!(v->number() > 0.0) || !std::isfinite(v->number())) {
      return KeyError(Name(key),
                      absl::StrCat("must be a positive number, got ", v->string_value()));
    }
    return v->number();
  }

  absl::StatusOr<double> Number(absl::string_view key, double fallback) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_number() || !std::isfinite(v->number())) {
      return KeyError(key, absl::StrCat("must be a finite number, got ",
                                        JsonValue::TypeName(v->type())));
    }
    return v->number();
  }

  absl::StatusOr<bool> Bool(absl::string_view key, bool fallback) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_bool()) {
      return KeyError(Name(key),
                      absl::StrCat("must be a boolean, got ", JsonValue::TypeName(v->type())));
    }
    return v->bool_value();
  }

  absl::StatusOr<std::string> String(absl::string_view key, absl::string_view fallback) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return std::string(fallback);
    if (!v->is_string()) {
      return KeyError(Name(key),
                      absl::StrCat("must be a string, got ", JsonValue::TypeName(v->type())));
    }
    return v->string_value();
  }

  // A number >= 0; `fallback` when absent.
  absl::StatusOr<double> NonNegativeNumber(absl::string_view key, double fallback) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_number()) {
      return KeyError(Name(key),
                      absl::StrCat("must be a number, got ", JsonValue::TypeName(v->type())));
    }
    if (!(v->number() >= 0.0) || !std::isfinite(v->number())) {
      return KeyError(Name(key), absl::StrCat("must be a number >= 0, got ", v->string_value()));
    }
    return v->number();
  }

  std::string Name(absl::string_view key) const { return absl::StrCat(prefix_, key); }

 private:
  const JsonValue& root_;
  std::string prefix_;
};

#define SINKSCOPE_ASSIGN(lhs, expr)          \
  do {                                       \
    auto sinkscope_v_ = (expr);              \
    if (!sinkscope_v_.ok()) return sinkscope_v_.status(); \
    lhs = *std::move(sinkscope_v_);          \
  } while (0)

// One `rope_scaling` / `rope_parameters` object (see model_config.h for the keys and defaults).
absl::StatusOr<attention::RopeScaling> ParseRopeScaling(absl::string_view key,
                                                        const JsonValue& object,
                                                        const ModelConfig& c) {
  using attention::RopeScalingType;
  const ConfigReader r(object, absl::StrCat(key, "."));
  const char* type_key = r.Get("rope_type") != nullptr ? "rope_type" : "type";
  std::string name;
  SINKSCOPE_ASSIGN(name, r.String(type_key, ""));
  if (name.empty()) return KeyError(key, "has no 'rope_type' (or legacy 'type')");
  attention::RopeScaling s;
  if (name == "default") return s;
  if (name == "linear") {
    s.type = RopeScalingType::kLinear;
  } else if (name == "yarn") {
    s.type = RopeScalingType::kYarn;
  } else if (name == "llama3") {
    s.type = RopeScalingType::kLlama3;
  } else {
    return KeyError(r.Name(type_key),
                    absl::StrCat("is '", name,
                                 "', which is not supported (supported: default, linear, yarn, "
                                 "llama3)"));
  }
  if (s.type == RopeScalingType::kLinear) {
    SINKSCOPE_ASSIGN(s.factor, r.PositiveNumber("factor", std::nullopt));
  } else if (s.type == RopeScalingType::kLlama3) {
    SINKSCOPE_ASSIGN(s.factor, r.PositiveNumber("factor", std::nullopt));
    SINKSCOPE_ASSIGN(s.low_freq_factor, r.PositiveNumber("low_freq_factor", std::nullopt));
    SINKSCOPE_ASSIGN(s.high_freq_factor, r.PositiveNumber("high_freq_factor", std::nullopt));
    SINKSCOPE_ASSIGN(s.original_max_position_embeddings,
                     r.PositiveInt("original_max_position_embeddings"));
  } else {  // yarn
    const bool has_original = r.Get("original_max_position_embeddings") != nullptr;
    SINKSCOPE_ASSIGN(s.original_max_position_embeddings,
                     r.PositiveInt("original_max_position_embeddings",
                                   c.max_position_embeddings));
    if (r.Get("factor") != nullptr || !has_original) {
      SINKSCOPE_ASSIGN(s.factor, r.PositiveNumber("factor", std::nullopt));
    } else {
      s.factor = static_cast<double>(c.max_position_embeddings) /
                 static_cast<double>(s.original_max_position_embeddings);
    }
    SINKSCOPE_ASSIGN(s.beta_fast, r.PositiveNumber("beta_fast", 32.0));
    SINKSCOPE_ASSIGN(s.beta_slow, r.PositiveNumber("beta_slow", 1.0));
    SINKSCOPE_ASSIGN(s.truncate, r.Bool("truncate", true));
    SINKSCOPE_ASSIGN(s.attention_factor, r.NonNegativeNumber("attention_factor", 0.0));
    SINKSCOPE_ASSIGN(s.mscale, r.NonNegativeNumber("mscale", 0.0));
    SINKSCOPE_ASSIGN(s.mscale_all_dim, r.NonNegativeNumber("mscale_all_dim", 0.0));
  }
  if (absl::Status st = attention::ValidateRopeScaling(s); !st.ok()) {
    return KeyError(key, st.message());
  }
  return s;
}

// RoPE: theta, and the scaling from `rope_scaling` and / or (newer configs) `rope_parameters`
// {"rope_type": ..., "rope_theta": ..., scaling keys}; when both are given they must agree.
absl::Status ReadRope(const ConfigReader& r, ModelConfig* c) {
  const char* scaling_key = nullptr;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const JsonValue* v = r.Get(key);
    if (v == nullptr) continue;
    if (!v->is_object()) {
      return KeyError(key, absl::StrCat("must be an object or null, got ",
                                        JsonValue::TypeName(v->type())));
    }
    attention::RopeScaling s;
    SINKSCOPE_ASSIGN(s, ParseRopeScaling(key, *v, *c));
    if (scaling_key != nullptr && s != c->rope_scaling) {
      return KeyError(key, absl::StrCat("(", s.ToString(), ") disagrees with '", scaling_key,
                                        "' (", c->rope_scaling.ToString(), ")"));
    }
    scaling_key = key;
    c->rope_scaling = s;
    if (const JsonValue* theta = v->Find("rope_theta"); theta != nullptr && theta->is_number()) {
      c->rope_theta = static_cast<float>(theta->number());
    }
  }
  if (r.Get("rope_theta") != nullptr || c->rope_theta == 0.0f) {
    double theta;
    SINKSCOPE_ASSIGN(theta, r.PositiveNumber("rope_theta", 10000.0));
    c->rope_theta = static_cast<float>(theta);
  }
  if (c->rope_scaling.type == attention::RopeScalingType::kYarn && !(c->rope_theta > 1.0f)) {
    return KeyError("rope_theta", absl::StrCat("must be > 1 for yarn RoPE scaling, got ",
                                               c->rope_theta));
  }
  return absl::OkStatus();
}

absl::Status CheckHeads(ModelConfig* c, absl::string_view hidden_key, absl::string_view heads_key,
                        bool head_dim_given) {
  if (!head_dim_given) {
    if (c->hidden_size % c->num_heads != 0) {
      return KeyError(heads_key, absl::StrCat("(", c->num_heads, ") does not divide ", hidden_key,
                                              " (", c->hidden_size, ")"));
    }
    c->head_dim = c->hidden_size / c->num_heads;
  }
  if (c->num_heads % c->num_kv_heads != 0) {
    return KeyError("num_key_value_heads",
                    absl::StrCat("(", c->num_kv_heads, ") does not divide ", heads_key, " (",
                                 c->num_heads, ")"));
  }
  return absl::OkStatus();
}

// The attention variant of a sinkscope-trained model (train/): `attention_variant` names an
// attention::Variant; its parameters are `num_sink_tokens`, `clip_zeta`, `clip_gamma`.
absl::Status ReadSinkscopeVariant(const ConfigReader& r, ModelConfig* c) {
  std::string name;
  SINKSCOPE_ASSIGN(name, r.String("attention_variant", "vanilla"));
  absl::StatusOr<attention::Variant> v = attention::ParseVariant(name);
  if (!v.ok()) return KeyError("attention_variant", v.status().message());
  c->attention_variant = *v;
  c->attention_sinks = *v == attention::Variant::kSinkLogit;
  if (*v == attention::Variant::kSinkTokens) {
    SINKSCOPE_ASSIGN(c->num_sink_tokens, r.PositiveInt("num_sink_tokens", 1));
  }
  if (*v == attention::Variant::kClippedSoftmax) {
    double zeta, gamma;
    SINKSCOPE_ASSIGN(zeta, r.Number("clip_zeta", 1.0));
    SINKSCOPE_ASSIGN(gamma, r.Number("clip_gamma", 0.0));
    if (zeta < 1.0) return KeyError("clip_zeta", "must be >= 1");
    if (gamma > 0.0) return KeyError("clip_gamma", "must be <= 0");
    c->clip_zeta = static_cast<float>(zeta);
    c->clip_gamma = static_cast<float>(gamma);
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> ParseLlamaFamily(const ConfigReader& r, const std::string& type) {
  ModelConfig c;
  c.model_type = type;
  c.family = ModelFamily::kLlama;
  c.norm = NormKind::kRmsNorm;
  c.mlp = MlpKind::kSwiGlu;
  SINKSCOPE_ASSIGN(c.hidden_size, r.PositiveInt("hidden_size"));
  SINKSCOPE_ASSIGN(c.num_layers, r.PositiveInt("num_hidden_layers"));
  SINKSCOPE_ASSIGN(c.num_heads, r.PositiveInt("num_attention_heads"));
  SINKSCOPE_ASSIGN(c.num_kv_heads, r.PositiveInt("num_key_value_heads", c.num_heads));
  const bool head_dim_given = r.Get("head_dim") != nullptr;
  SINKSCOPE_ASSIGN(c.head_dim, r.PositiveInt("head_dim", 1));
  SINKSCOPE_ASSIGN(c.intermediate_size, r.PositiveInt("intermediate_size"));
  SINKSCOPE_ASSIGN(c.vocab_size, r.PositiveInt("vocab_size"));
  const int default_positions =
      type == "llama" || type == "sinkscope" ? 2048 : (type == "mistral" ? 131072 : 32768);
  SINKSCOPE_ASSIGN(c.max_position_embeddings,
                   r.PositiveInt("max_position_embeddings", default_positions));
  SINKSCOPE_ASSIGN(c.norm_eps, r.PositiveNumber("rms_norm_eps", 1e-6));
  SINKSCOPE_ASSIGN(c.tie_word_embeddings, r.Bool("tie_word_embeddings", false));
  if (absl::Status st = CheckHeads(&c, "hidden_size", "num_attention_heads", head_dim_given);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = ReadRope(r, &c); !st.ok()) return st;
  if (c.head_dim % 2 != 0) return KeyError("head_dim", "must be even for RoPE");

  std::string act;
  SINKSCOPE_ASSIGN(act, r.String("hidden_act", "silu"));
  if (act != "silu") {
    return KeyError("hidden_act", absl::StrCat("'", act, "' is not supported (only silu)"));
  }
  bool mlp_bias;
  SINKSCOPE_ASSIGN(mlp_bias, r.Bool("mlp_bias", false));
  if (mlp_bias) return KeyError("mlp_bias", "true is not supported yet");

  if (type == "qwen2") {
    c.qkv_bias = true;
    c.o_bias = false;
  } else if (type == "llama") {
    SINKSCOPE_ASSIGN(c.qkv_bias, r.Bool("attention_bias", false));
    c.o_bias = c.qkv_bias;
  }
  if (type == "sinkscope") {
    if (absl::Status st = ReadSinkscopeVariant(r, &c); !st.ok()) return st;
  }

  // Sliding window per layer (0: none).
  int64_t window = 0;
  {
    std::optional<int64_t> w;
    SINKSCOPE_ASSIGN(w, r.OptionalInt("sliding_window"));
    if (w.has_value()) {
      if (*w <= 0 || *w > (int64_t{1} << 30)) {
        return KeyError("sliding_window",
                        absl::StrCat("must be a positive integer or null, got ", *w));
      }
      window = *w;
    }
  }
  int max_window_layers = 0;
  if (type == "qwen2") {
    bool use;
    SINKSCOPE_ASSIGN(use, r.Bool("use_sliding_window", false));
    if (!use) window = 0;
    SINKSCOPE_ASSIGN(max_window_layers, r.PositiveInt("max_window_layers", 28));
  } else if (type == "llama") {
    window = 0;  // not a Llama parameter
  }
  c.layer_windows.assign(c.num_layers, 0);
  if (const JsonValue* types = r.Get("layer_types"); types != nullptr) {
    if (!types->is_array() || static_cast<int>(types->array().size()) != c.num_layers) {
      return KeyError("layer_types", "must be an array of num_hidden_layers strings");
    }
    for (int l = 0; l < c.num_layers; ++l) {
      const JsonValue& t = types->array()[l];
      if (!t.is_string() ||
          (t.string_value() != "full_attention" && t.string_value() != "sliding_attention")) {
        return KeyError("layer_types",
                        "entries must be 'full_attention' or 'sliding_attention'");
      }
      if (t.string_value() == "sliding_attention") c.layer_windows[l] = static_cast<int>(window);
    }
  } else {
    for (int l = max_window_layers; l < c.num_layers; ++l) {
      c.layer_windows[l] = static_cast<int>(window);
    }
  }
  return c;
}

absl::StatusOr<ModelConfig> ParseGpt2(const ConfigReader& r) {
  ModelConfig c;
  c.model_type = "gpt2";
  c.family = ModelFamily::kGpt2;
  c.norm = NormKind::kLayerNorm;
  c.mlp = MlpKind::kGeluTanh;
  SINKSCOPE_ASSIGN(c.hidden_size, r.PositiveInt("n_embd"));
  SINKSCOPE_ASSIGN(c.num_layers, r.PositiveInt("n_layer"));
  SINKSCOPE_ASSIGN(c.num_heads, r.PositiveInt("n_head"));
  c.num_kv_heads = c.num_heads;
  SINKSCOPE_ASSIGN(c.max_position_embeddings, r.PositiveInt("n_positions"));
  SINKSCOPE_ASSIGN(c.vocab_size, r.PositiveInt("vocab_size"));
  SINKSCOPE_ASSIGN(c.intermediate_size, r.PositiveInt("n_inner", 4 * c.hidden_size));
  SINKSCOPE_ASSIGN(c.norm_eps, r.PositiveNumber("layer_norm_epsilon", 1e-5));
  SINKSCOPE_ASSIGN(c.tie_word_embeddings, r.Bool("tie_word_embeddings", true));
  if (absl::Status st = CheckHeads(&c, "n_embd", "n_head", false); !st.ok()) return st;
  std::string act;
  SINKSCOPE_ASSIGN(act, r.String("activation_function", "gelu_new"));
  if (act != "gelu_new" && act != "gelu_pytorch_tanh") {
    return KeyError("activation_function",
                    absl::StrCat("'", act, "' is not supported (only gelu_new, the tanh form)"));
  }
  bool flag;
  SINKSCOPE_ASSIGN(flag, r.Bool("scale_attn_weights", true));
  if (!flag) return KeyError("scale_attn_weights", "false is not supported yet");
  SINKSCOPE_ASSIGN(flag, r.Bool("scale_attn_by_inverse_layer_idx", false));
  if (flag) return KeyError("scale_attn_by_inverse_layer_idx", "true is not supported yet");
  c.rope_theta = 0.0f;
  c.qkv_bias = c.o_bias = c.mlp_bias = true;
  c.layer_windows.assign(c.num_layers, 0);
  return c;
}

absl::StatusOr<ModelConfig> ParseGptOss(const ConfigReader& r) {
  ModelConfig c;
  c.model_type = "gpt_oss";
  c.family = ModelFamily::kGptOss;
  c.norm = NormKind::kRmsNorm;
  c.mlp = MlpKind::kMoeClampedSwiGlu;
  SINKSCOPE_ASSIGN(c.hidden_size, r.PositiveInt("hidden_size"));
  SINKSCOPE_ASSIGN(c.num_layers, r.PositiveInt("num_hidden_layers"));
  SINKSCOPE_ASSIGN(c.num_heads, r.PositiveInt("num_attention_heads"));
  SINKSCOPE_ASSIGN(c.num_kv_heads, r.PositiveInt("num_key_value_heads", c.num_heads));
  SINKSCOPE_ASSIGN(c.head_dim, r.PositiveInt("head_dim", 64));
  SINKSCOPE_ASSIGN(c.intermediate_size, r.PositiveInt("intermediate_size"));
  SINKSCOPE_ASSIGN(c.vocab_size, r.PositiveInt("vocab_size"));
  SINKSCOPE_ASSIGN(c.max_position_embeddings, r.PositiveInt("max_position_embeddings", 131072));
  SINKSCOPE_ASSIGN(c.norm_eps, r.PositiveNumber("rms_norm_eps", 1e-5));
  SINKSCOPE_ASSIGN(c.tie_word_embeddings, r.Bool("tie_word_embeddings", false));
  if (absl::Status st = CheckHeads(&c, "hidden_size", "num_attention_heads", true); !st.ok()) {
    return st;
  }
  if (r.Get("rope_theta") == nullptr) c.rope_theta = 150000.0f;
  if (absl::Status st = ReadRope(r, &c); !st.ok()) return st;
  if (c.head_dim % 2 != 0) return KeyError("head_dim", "must be even for RoPE");
  SINKSCOPE_ASSIGN(c.qkv_bias, r.Bool("attention_bias", true));
  c.o_bias = c.qkv_bias;
  c.attention_sinks = true;

  SINKSCOPE_ASSIGN(c.num_experts, r.PositiveInt("num_local_experts"));
  const char* k_key =
      r.Get("num_experts_per_tok") == nullptr && r.Get("experts_per_token") != nullptr
          ? "experts_per_token"
          : "num_experts_per_tok";
  SINKSCOPE_ASSIGN(c.experts_per_token, r.PositiveInt(k_key));
  if (c.experts_per_token > c.num_experts) {
    return KeyError(k_key, absl::StrCat("(", c.experts_per_token,
                                        ") exceeds num_local_experts (", c.num_experts, ")"));
  }
  double limit;
  SINKSCOPE_ASSIGN(limit, r.PositiveNumber("swiglu_limit", 7.0));
  c.swiglu_limit = static_cast<float>(limit);
  c.swiglu_alpha = 1.702f;
  if (const JsonValue* q = r.Get("quantization_config"); q != nullptr) {
    std::string method = "(no quant_method)";
    if (const JsonValue* m = q->is_object() ? q->Find("quant_method") : nullptr;
        m != nullptr && m->is_string()) {
      method = m->string_value();
    }
    if (method != "mxfp4") {
      return KeyError("quantization_config",
                      absl::StrCat("with quant_method '", method,
                                   "' is not supported (only mxfp4 experts, or none)"));
    }
  }

  int window;
  SINKSCOPE_ASSIGN(window, r.PositiveInt("sliding_window", 128));
  c.layer_windows.assign(c.num_layers, 0);
  if (const JsonValue* types = r.Get("layer_types"); types != nullptr) {
    if (!types->is_array() || static_cast<int>(types->array().size()) != c.num_layers) {
      return KeyError("layer_types", "must be an array of num_hidden_layers strings");
    }
    for (int l = 0; l < c.num_layers; ++l) {
      const JsonValue& t = types->array()[l];
      if (!t.is_string() ||
          (t.string_value() != "full_attention" && t.string_value() != "sliding_attention")) {
        return KeyError("layer_types",
                        "entries must be 'full_attention' or 'sliding_attention'");
      }
      if (t.string_value() == "sliding_attention") c.layer_windows[l] = window;
    }
  } else {
    for (int l = 0; l < c.num_layers; l += 2) c.layer_windows[l] = window;
  }
  return c;
}

#undef SINKSCOPE_ASSIGN

}  // namespace

absl::StatusOr<ModelConfig> ModelConfigFromJson(const JsonValue& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("config.json: the top level must be an object");
  }
  ConfigReader r(config);
  absl::StatusOr<std::string> type = r.String("model_type", "");
  if (!type.ok()) return type.status();
  if (type->empty()) return KeyError("model_type", "is missing (required)");
  if (*type == "llama" || *type == "mistral" || *type == "qwen2" || *type == "sinkscope") {
    return ParseLlamaFamily(r, *type);
  }
  if (*type == "gpt2") return ParseGpt2(r);
  if (*type == "gpt_oss") return ParseGptOss(r);
  return absl::InvalidArgumentError(absl::StrCat(
      "config.json: model_type '", *type,
      "' is not supported (supported: llama, mistral, qwen2, gpt2, gpt_oss, sinkscope)"));
}

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view config_json) {
  absl::StatusOr<JsonValue> v = ParseJson(config_json);
  if (!v.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config.json: ", v.status().message()));
  }
  return ModelConfigFromJson(*v);
}

attention::AttentionSpec AttentionSpecForLayer(const ModelConfig& c, int layer) {
  attention::AttentionSpec s;
  s.d_model = c.hidden_size;
  s.num_heads = c.num_heads;
  s.num_kv_heads = c.num_kv_heads;
  s.head_dim = c.head_dim;
  s.q_bias = s.k_bias = s.v_bias = c.qkv_bias;
  s.o_bias = c.o_bias;
  s.rope_theta = c.rope_theta;
  s.rope_layout = attention::RopeLayout::kRotateHalf;
  s.rope_scaling = c.rope_scaling;
  const int window =
      layer >= 0 && layer < static_cast<int>(c.layer_windows.size()) ? c.layer_windows[layer] : 0;
  s.mask = window > 0 ? attention::MaskKind::kSliding : attention::MaskKind::kCausal;
  s.window = window;
  s.variant = c.attention_sinks ? attention::Variant::kSinkLogit : c.attention_variant;
  s.num_sink_tokens = s.variant == attention::Variant::kSinkTokens ? c.num_sink_tokens : 0;
  s.clip_zeta = c.clip_zeta;
  s.clip_gamma = c.clip_gamma;
  return s;
}

std::string ModelConfig::ToString() const {
  return absl::StrCat(model_type, ": d=", hidden_size, " layers=", num_layers, " heads=",
                      num_heads, "/", num_kv_heads, " head_dim=", head_dim,
                      " ffn=", intermediate_size, " vocab=", vocab_size,
                      " rope_theta=", rope_theta,
                      rope_scaling.is_none() ? "" : absl::StrCat(" rope_scaling=",
                                                                 rope_scaling.ToString()),
                      " tied=", tie_word_embeddings ? 1 : 0,
                      " windows=[", absl::StrJoin(layer_windows, ","), "]",
                      attention_sinks ? " sinks=1" : "",
                      attention_variant != attention::Variant::kVanilla
                          ? absl::StrCat(" variant=", attention::VariantName(attention_variant))
                          : "",
                      num_experts > 0 ? absl::StrCat(" experts=", experts_per_token, "/",
                                                     num_experts, " swiglu_limit=", swiglu_limit)
                                      : "");
}

}  // namespace sinkscope::model
