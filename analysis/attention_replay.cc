#include "analysis/attention_replay.h"

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "analysis/sink_metrics.h"
#include "analysis/tensor_summary.h"
#include "attention/int8_attention.h"
#include "attention/reference_attention.h"
#include "model/safetensors.h"
#include "quant/tensor.h"

namespace sinkscope::analysis {
namespace {

using attention::AttentionSpec;
using attention::AttentionWeights;
using attention::FloatMatrix;
using attention::FloatVector;
using attention::MaskKind;
using attention::Variant;

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// --- metadata ---------------------------------------------------------------------------------

// The layer file's __metadata__: typed getters whose errors name the file and the key.
class Metadata {
 public:
  Metadata(const std::string& path, const std::map<std::string, std::string>& md)
      : path_(path), md_(md) {}

  bool Has(const std::string& key) const { return md_.count(key) > 0; }

  absl::Status Text(const std::string& key, std::string* out) const {
    auto it = md_.find(key);
    if (it == md_.end()) {
      return FileError(path_, absl::StrCat("metadata key '", key, "' is missing"));
    }
    *out = it->second;
    return absl::OkStatus();
  }

  // An integer >= min_value.
  absl::Status Int(const std::string& key, int min_value, int* out) const {
    std::string text;
    if (absl::Status st = Text(key, &text); !st.ok()) return st;
    if (!absl::SimpleAtoi(text, out)) return Bad(key, "is not an integer");
    if (*out < min_value) return Bad(key, absl::StrCat("must be >= ", min_value));
    return absl::OkStatus();
  }

  // A finite number.
  absl::Status Float(const std::string& key, float* out) const {
    std::string text;
    if (absl::Status st = Text(key, &text); !st.ok()) return st;
    if (!absl::SimpleAtof(text, out) || !std::isfinite(*out)) {
      return Bad(key, "is not a finite number");
    }
    return absl::OkStatus();
  }

  absl::Status Bool(const std::string& key, bool* out) const {
    std::string text;
    if (absl::Status st = Text(key, &text); !st.ok()) return st;
    if (text != "true" && text != "false") return Bad(key, "must be 'true' or 'false'");
    *out = text == "true";
    return absl::OkStatus();
  }

  // "PATH: metadata 'key' = 'value' <why>" (the key must be present).
  absl::Status Bad(const std::string& key, absl::string_view why) const {
    return FileError(path_, absl::StrCat("metadata '", key, "' = '", md_.at(key), "' ", why));
  }

 private:
  const std::string& path_;
  const std::map<std::string, std::string>& md_;
};

absl::Status FirstError(std::initializer_list<std::function<absl::Status()>> steps) {
  for (const auto& step : steps) {
    if (absl::Status st = step(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<AttentionSpec> SpecFromMetadata(const std::string& path, const Metadata& md) {
  AttentionSpec s;
  std::string variant_text;
  int window = 0;
  bool causal = true;
  if (absl::Status st = FirstError({
          [&] { return md.Int("num_heads", 1, &s.num_heads); },
          [&] { return md.Int("num_kv_heads", 1, &s.num_kv_heads); },
          [&] { return md.Int("head_dim", 1, &s.head_dim); },
          [&] { return md.Text("variant", &variant_text); },
          [&] { return md.Int("window", 0, &window); },
          [&] { return md.Bool("causal", &causal); },
          [&] { return md.Float("rope_theta", &s.rope_theta); },
      });
      !st.ok()) {
    return st;
  }
  if (s.num_heads % s.num_kv_heads != 0) {
    return FileError(path, absl::StrCat("metadata 'num_heads' = ", s.num_heads,
                                        " is not a multiple of 'num_kv_heads' = ", s.num_kv_heads));
  }
  absl::StatusOr<Variant> variant = attention::ParseVariant(variant_text);
  if (!variant.ok()) {
    return FileError(path, absl::StrCat("metadata 'variant': ", variant.status().message()));
  }
  s.variant = *variant;
  if (window > 0 && !causal) {
    return FileError(path, absl::StrCat("metadata 'window' = ", window,
                                        " contradicts 'causal' = 'false' (a sliding window is "
                                        "causal; window 0 with causal false means no mask)"));
  }
  s.mask = window > 0 ? MaskKind::kSliding : (causal ? MaskKind::kCausal : MaskKind::kNone);
  s.window = window;

  if (s.rope_theta < 0.0f) return md.Bad("rope_theta", "must be >= 0 (0: no RoPE)");
  if (s.rope_theta > 0.0f || md.Has("rope_layout")) {
    std::string layout_text;
    if (absl::Status st = md.Text("rope_layout", &layout_text); !st.ok()) {
      return FileError(path, absl::StrCat("metadata key 'rope_layout' is missing (needed when "
                                          "'rope_theta' > 0: rotate_half or interleaved)"));
    }
    absl::StatusOr<attention::RopeLayout> layout = attention::ParseRopeLayout(layout_text);
    if (!layout.ok()) {
      return FileError(path, absl::StrCat("metadata 'rope_layout': ", layout.status().message()));
    }
    s.rope_layout = *layout;
  }
  if (s.rope_theta > 0.0f && s.head_dim % 2 != 0) {
    return md.Bad("head_dim", "is odd, but RoPE ('rope_theta' > 0) needs an even head_dim");
  }
  // RoPE scaling (optional): rope_scaling = none / linear / yarn / llama3 and its parameters as
  // rope_scaling_<name> (the RopeScaling field names).
  if (md.Has("rope_scaling")) {
    std::string type_text;
    if (absl::Status st = md.Text("rope_scaling", &type_text); !st.ok()) return st;
    absl::StatusOr<attention::RopeScalingType> type = attention::ParseRopeScalingType(type_text);
    if (!type.ok()) return md.Bad("rope_scaling", type.status().message());
    attention::RopeScaling& r = s.rope_scaling;
    r.type = *type;
    const std::pair<const char*, double*> numbers[] = {
        {"rope_scaling_factor", &r.factor},
        {"rope_scaling_beta_fast", &r.beta_fast},
        {"rope_scaling_beta_slow", &r.beta_slow},
        {"rope_scaling_attention_factor", &r.attention_factor},
        {"rope_scaling_mscale", &r.mscale},
        {"rope_scaling_mscale_all_dim", &r.mscale_all_dim},
        {"rope_scaling_low_freq_factor", &r.low_freq_factor},
        {"rope_scaling_high_freq_factor", &r.high_freq_factor},
    };
    for (const auto& [key, field] : numbers) {
      if (!md.Has(key)) continue;
      std::string text;
      if (absl::Status st = md.Text(key, &text); !st.ok()) return st;
      if (!absl::SimpleAtod(text, field) || !std::isfinite(*field)) {
        return md.Bad(key, "is not a finite number");
      }
    }
    if (md.Has("rope_scaling_truncate")) {
      if (absl::Status st = md.Bool("rope_scaling_truncate", &r.truncate); !st.ok()) return st;
    }
    if (md.Has("rope_scaling_original_max_position_embeddings")) {
      int original = 0;
      if (absl::Status st = md.Int("rope_scaling_original_max_position_embeddings", 1, &original);
          !st.ok()) {
        return st;
      }
      r.original_max_position_embeddings = original;
    }
    if (absl::Status st = attention::ValidateRopeScaling(r); !st.ok()) {
      return FileError(path, absl::StrCat("metadata 'rope_scaling': ", st.message()));
    }
    if (!r.is_none() && s.rope_theta <= 0.0f) {
      return md.Bad("rope_scaling", "needs RoPE ('rope_theta' > 0)");
    }
  }
  if (md.Has("softmax_scale")) {
    if (absl::Status st = md.Float("softmax_scale", &s.softmax_scale); !st.ok()) return st;
    if (s.softmax_scale <= 0.0f) return md.Bad("softmax_scale", "must be > 0");
  }
  const bool clipped = s.variant == Variant::kClippedSoftmax;
  for (const char* key : {"clip_zeta", "clip_gamma"}) {
    if (!clipped && md.Has(key)) {
      return FileError(path, absl::StrCat("metadata '", key, "' is set, but 'variant' is '",
                                          variant_text, "' (only clipped_softmax uses it)"));
    }
  }
  if (clipped) {
    if (absl::Status st = md.Float("clip_zeta", &s.clip_zeta); !st.ok()) return st;
    if (absl::Status st = md.Float("clip_gamma", &s.clip_gamma); !st.ok()) return st;
    if (s.clip_zeta < 1.0f) return md.Bad("clip_zeta", "must be >= 1");
    if (s.clip_gamma > 0.0f) return md.Bad("clip_gamma", "must be <= 0");
  }
  return s;
}

// --- tensors ----------------------------------------------------------------------------------

// The tensors a layer file may hold, and the variant each belongs to (kVanilla: any variant).
struct KnownTensor {
  const char* name;
  bool variant_specific;
  Variant variant;
};

constexpr KnownTensor kKnownTensors[] = {
    {"q_proj.weight", false, Variant::kVanilla}, {"k_proj.weight", false, Variant::kVanilla},
    {"v_proj.weight", false, Variant::kVanilla}, {"o_proj.weight", false, Variant::kVanilla},
    {"q_proj.bias", false, Variant::kVanilla},   {"k_proj.bias", false, Variant::kVanilla},
    {"v_proj.bias", false, Variant::kVanilla},   {"o_proj.bias", false, Variant::kVanilla},
    {"sinks", true, Variant::kSinkLogit},        {"k_bias", true, Variant::kKvBias},
    {"v_bias", true, Variant::kKvBias},          {"sink_tokens", true, Variant::kSinkTokens},
    {"gate.weight", true, Variant::kGated},      {"gate.bias", true, Variant::kGated},
};

absl::Status CheckFloatDType(const std::string& path, const model::TensorInfo& t) {
  if (t.dtype == model::DType::kF32 || t.dtype == model::DType::kBF16 ||
      t.dtype == model::DType::kF16) {
    return absl::OkStatus();
  }
  return FileError(path, absl::StrCat("tensor '", t.name, "' has dtype ", model::DTypeName(t.dtype),
                                      "; F32, BF16 or F16 expected"));
}

// Reads tensor t into `data` (t.size() floats), widened; non-finite values are an error.
absl::Status ReadFloats(const model::SafetensorsFile& file, const model::TensorInfo& t,
                        float* data) {
  bool finite = true;
  model::ForEachFloatChunk(file.View(t), [&](const float* x, int64_t n, int64_t offset) {
    for (int64_t i = 0; i < n; ++i) {
      finite = finite && std::isfinite(x[i]);
      data[offset + i] = x[i];
    }
  });
  if (!finite) return FileError(file.path(), absl::StrCat("tensor '", t.name, "' has NaN or Inf"));
  return absl::OkStatus();
}

class TensorReader {
 public:
  explicit TensorReader(const model::SafetensorsFile& file) : file_(file) {}

  // The tensor with exactly `shape`; `why` explains the expected shape in the error.
  absl::StatusOr<const model::TensorInfo*> Find(const std::string& name,
                                                const std::vector<int64_t>& shape,
                                                absl::string_view why, bool required) const {
    const model::TensorInfo* t = file_.Find(name);
    if (t == nullptr) {
      if (!required) return t;
      return FileError(file_.path(), absl::StrCat("tensor '", name, "' is missing (", why, ")"));
    }
    if (t->shape != shape) {
      return FileError(file_.path(),
                       absl::StrCat("tensor '", name, "' has shape ", ShapeText(t->shape),
                                    ", expected ", ShapeText(shape), " (", why, ")"));
    }
    return t;
  }

  absl::Status Matrix(const std::string& name, int64_t rows, int64_t cols, absl::string_view why,
                      bool required, FloatMatrix* out) const {
    absl::StatusOr<const model::TensorInfo*> t = Find(name, {rows, cols}, why, required);
    if (!t.ok()) return t.status();
    if (*t == nullptr) return absl::OkStatus();
    out->resize(rows, cols);
    return ReadFloats(file_, **t, out->data());
  }

  absl::Status Vector(const std::string& name, int64_t size, absl::string_view why, bool required,
                      FloatVector* out) const {
    absl::StatusOr<const model::TensorInfo*> t = Find(name, {size}, why, required);
    if (!t.ok()) return t.status();
    if (*t == nullptr) return absl::OkStatus();
    out->resize(size);
    return ReadFloats(file_, **t, out->data());
  }

 private:
  const model::SafetensorsFile& file_;
};

absl::Status CheckTensorNames(const model::SafetensorsFile& file, const std::string& variant_text,
                              Variant variant) {
  for (const model::TensorInfo& t : file.tensors()) {
    const KnownTensor* known = nullptr;
    for (const KnownTensor& k : kKnownTensors) {
      if (t.name == k.name) known = &k;
    }
    if (known == nullptr) {
      std::vector<std::string> names;
      for (const KnownTensor& k : kKnownTensors) names.push_back(k.name);
      return FileError(file.path(),
                       absl::StrCat("unknown tensor '", t.name, "' (a layer file holds ",
                                    absl::StrJoin(names, ", "), ")"));
    }
    if (known->variant_specific && known->variant != variant) {
      return FileError(file.path(),
                       absl::StrCat("tensor '", t.name, "' belongs to variant ",
                                    attention::VariantName(known->variant),
                                    ", but metadata 'variant' is '", variant_text, "'"));
    }
    if (absl::Status st = CheckFloatDType(file.path(), t); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status LoadWeights(const model::SafetensorsFile& file, AttentionSpec* s,
                         AttentionWeights* w) {
  const std::string& path = file.path();
  const model::TensorInfo* q = file.Find("q_proj.weight");
  if (q == nullptr) return FileError(path, "tensor 'q_proj.weight' is missing");
  const int64_t hd = int64_t{s->num_heads} * s->head_dim;
  const int64_t kvd = int64_t{s->num_kv_heads} * s->head_dim;
  if (q->shape.size() != 2 || q->shape[0] != hd || q->shape[1] < 1) {
    return FileError(path, absl::StrCat("tensor 'q_proj.weight' has shape ", ShapeText(q->shape),
                                        ", expected [", hd, ", d_model] (num_heads * head_dim = ",
                                        s->num_heads, " * ", s->head_dim, " rows)"));
  }
  if (q->shape[1] > std::numeric_limits<int>::max()) {
    return FileError(path, "tensor 'q_proj.weight': d_model is too large");
  }
  s->d_model = static_cast<int>(q->shape[1]);
  const int64_t dm = s->d_model;
  const std::string heads_rows =
      absl::StrCat("num_heads * head_dim = ", s->num_heads, " * ", s->head_dim);
  const std::string kv_rows =
      absl::StrCat("num_kv_heads * head_dim = ", s->num_kv_heads, " * ", s->head_dim);
  const std::string d_model_cols = absl::StrCat("d_model = ", dm, " from q_proj.weight");
  const TensorReader r(file);
  for (absl::Status st : {
           r.Matrix("q_proj.weight", hd, dm, heads_rows, true, &w->wq),
           r.Matrix("k_proj.weight", kvd, dm, kv_rows, true, &w->wk),
           r.Matrix("v_proj.weight", kvd, dm, kv_rows, true, &w->wv),
           r.Matrix("o_proj.weight", dm, hd, "[d_model, num_heads * head_dim]", true, &w->wo),
           r.Vector("q_proj.bias", hd, heads_rows, false, &w->bq),
           r.Vector("k_proj.bias", kvd, kv_rows, false, &w->bk),
           r.Vector("v_proj.bias", kvd, kv_rows, false, &w->bv),
           r.Vector("o_proj.bias", dm, d_model_cols, false, &w->bo),
       }) {
    if (!st.ok()) return st;
  }
  s->q_bias = w->bq.size() > 0;
  s->k_bias = w->bk.size() > 0;
  s->v_bias = w->bv.size() > 0;
  s->o_bias = w->bo.size() > 0;
  switch (s->variant) {
    case Variant::kSinkLogit:
      return r.Vector("sinks", s->num_heads, "one sink logit per head, needed by sink_logit", true,
                      &w->sinks);
    case Variant::kKvBias:
      for (const auto& [name, m] :
           {std::pair<const char*, FloatMatrix*>{"k_bias", &w->k_bias}, {"v_bias", &w->v_bias}}) {
        if (absl::Status st = r.Matrix(name, s->num_kv_heads, s->head_dim,
                                       "[num_kv_heads, head_dim], needed by kv_bias", true, m);
            !st.ok()) {
          return st;
        }
      }
      return absl::OkStatus();
    case Variant::kSinkTokens: {
      const model::TensorInfo* t = file.Find("sink_tokens");
      if (t == nullptr) {
        return FileError(path, "tensor 'sink_tokens' is missing (needed by sink_tokens)");
      }
      if (t->shape.size() != 2 || t->shape[0] < 1 || t->shape[0] > (1 << 20) || t->shape[1] != dm) {
        return FileError(path, absl::StrCat("tensor 'sink_tokens' has shape ", ShapeText(t->shape),
                                            ", expected [n >= 1, ", dm, "] (", d_model_cols, ")"));
      }
      s->num_sink_tokens = static_cast<int>(t->shape[0]);
      return r.Matrix("sink_tokens", s->num_sink_tokens, dm, d_model_cols, true, &w->sink_tokens);
    }
    case Variant::kGated:
      if (absl::Status st = r.Matrix("gate.weight", s->num_heads, dm,
                                     "[num_heads, d_model], needed by gated", true, &w->gate_w);
          !st.ok()) {
        return st;
      }
      return r.Vector("gate.bias", s->num_heads, "[num_heads]", false, &w->gate_b);
    default:
      return absl::OkStatus();
  }
}

// --- replay -----------------------------------------------------------------------------------

model::TypedTensorView ViewOfMatrix(const FloatMatrix& m) {
  return model::TypedTensorView{
      reinterpret_cast<const uint8_t*>(m.data()), model::DType::kF32, {m.rows(), m.cols()}};
}

model::TensorToWrite F32Tensor(const std::string& name, const FloatMatrix& m) {
  return model::TensorToWrite{
      name,
      model::DType::kF32,
      {m.rows(), m.cols()},
      std::string(reinterpret_cast<const char*>(m.data()), static_cast<size_t>(m.size()) * 4)};
}

// "gemm:jit split_weights" -> ("gemm:jit", "split_weights").
std::pair<std::string, std::string> SplitGemmDescription(const std::string& d) {
  const size_t space = d.rfind(' ');
  if (space == std::string::npos) return {d, ""};
  return {d.substr(0, space), d.substr(space + 1)};
}

}  // namespace

absl::StatusOr<AttentionLayerFile> LoadAttentionLayer(const std::string& path) {
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> file = model::SafetensorsFile::Open(path);
  if (!file.ok()) return file.status();
  const Metadata md(path, (*file)->metadata());
  AttentionLayerFile layer;
  absl::StatusOr<AttentionSpec> spec = SpecFromMetadata(path, md);
  if (!spec.ok()) return spec.status();
  layer.spec = *spec;
  std::string variant_text;
  if (absl::Status st = md.Text("variant", &variant_text); !st.ok()) return st;
  if (absl::Status st = CheckTensorNames(**file, variant_text, layer.spec.variant); !st.ok()) {
    return st;
  }
  if (absl::Status st = LoadWeights(**file, &layer.spec, &layer.weights); !st.ok()) return st;
  if (absl::Status st = attention::ValidateWeights(layer.spec, layer.weights); !st.ok()) {
    return FileError(path, st.message());
  }
  return layer;
}

absl::StatusOr<FloatMatrix> LoadReplayInput(const std::string& path, int d_model) {
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> file = model::SafetensorsFile::Open(path);
  if (!file.ok()) return file.status();
  for (const model::TensorInfo& t : (*file)->tensors()) {
    if (t.name != "hidden") {
      return FileError(path, absl::StrCat("unknown tensor '", t.name,
                                          "' (an input file holds one tensor, 'hidden')"));
    }
  }
  const model::TensorInfo* t = (*file)->Find("hidden");
  if (t == nullptr) return FileError(path, "tensor 'hidden' is missing");
  if (absl::Status st = CheckFloatDType(path, *t); !st.ok()) return st;
  if (t->shape.size() != 2 || t->shape[0] < 1 || t->shape[1] != d_model) {
    return FileError(path,
                     absl::StrCat("tensor 'hidden' has shape ", ShapeText(t->shape),
                                  ", expected [T >= 1, ", d_model, "] (d_model of the layer)"));
  }
  FloatMatrix x(t->shape[0], t->shape[1]);
  if (absl::Status st = ReadFloats(**file, *t, x.data()); !st.ok()) return st;
  return x;
}

absl::StatusOr<ReplayResult> RunAttentionReplay(const AttentionLayerFile& layer,
                                                const FloatMatrix& hidden,
                                                const ReplayOptions& options,
                                                const std::string& model_name) {
  const AttentionSpec& spec = layer.spec;
  if (hidden.rows() < 1 || hidden.cols() != spec.d_model) {
    return absl::InvalidArgumentError(absl::StrCat("attention replay: input is ", hidden.rows(),
                                                   "x", hidden.cols(), ", expected [T >= 1, ",
                                                   spec.d_model, "]"));
  }
  if (options.keep_sink_kv_fp32 < 0) {
    return absl::InvalidArgumentError("attention replay: keep_sink_kv_fp32 must be >= 0");
  }
  absl::StatusOr<attention::ReferenceAttention> reference =
      attention::ReferenceAttention::Create(spec, layer.weights);
  if (!reference.ok()) return reference.status();
  attention::AttentionIntermediates inter;
  absl::StatusOr<FloatMatrix> output = reference->Forward(hidden, &inter);
  if (!output.ok()) return output.status();

  ReplayResult result;
  result.output = *std::move(output);
  result.sink_mass = inter.slot_mass;
  result.config = {{"spec", spec.ToString()},
                   {"int8", options.int8 ? "true" : "false"},
                   {"keep_sink_kv_fp32", std::to_string(options.keep_sink_kv_fp32)}};

  sinkscope::v1::ActivationReport& report = result.report;
  report.set_model(model_name);
  report.set_num_layers(1);
  report.set_num_tokens(static_cast<int32_t>(hidden.rows()));
  report.set_num_sequences(1);
  report.set_sink_epsilon(kDefaultSinkEpsilon);
  sinkscope::v1::LayerReport* lr = report.add_layers();
  lr->set_layer(0);
  *lr->mutable_hidden() = Summarize(ViewOfMatrix(result.output));
  *lr->mutable_hidden_outliers() = ProfileOutliers(ViewOfMatrix(result.output));

  // Sink metrics on the sequence keys (query t sees key t last); the prefix keys' mass (sink
  // tokens, KV-bias slot) is in slot_mass with the sink logit's.
  const int64_t T = hidden.rows();
  const int prefix = spec.prefix_keys();
  std::vector<sinkscope::v1::HeadSink> heads;
  for (int h = 0; h < spec.num_heads; ++h) {
    const FloatMatrix seq = inter.probs[h].rightCols(inter.probs[h].cols() - prefix);
    const FloatMatrix slot = inter.slot_mass.row(h);
    const HeadProbabilities p{seq.data(), T, seq.cols(), slot.data(),
                              /*normalize_rows=*/spec.variant == Variant::kSigmoid};
    heads.push_back(MeasureHeadSink(p, /*layer=*/0, h));
    *lr->add_heads() = heads.back();
  }
  report.set_sink_rate(SinkRate(heads));

  if (options.int8) {
    attention::AttentionQuantConfig config;
    config.keep_sink_kv_fp32 = options.keep_sink_kv_fp32;
    config.prob_scheme = options.p_scheme;
    absl::StatusOr<attention::Int8Attention> int8 =
        attention::Int8Attention::Create(spec, layer.weights, config);
    if (!int8.ok()) return int8.status();
    absl::StatusOr<attention::Int8Comparison> cmp =
        attention::CompareInt8(*reference, *int8, hidden);
    if (!cmp.ok()) return cmp.status();
    result.output_int8 = std::move(cmp->int8);
    for (sinkscope::v1::QuantError& e : cmp->stages) *lr->add_quant_errors() = std::move(e);
    std::tie(result.int8_gemm_impl, result.int8_mitigation) =
        SplitGemmDescription(int8->gemm_description());
    result.config["quant_config"] = config.ToString();
  }
  return result;
}

absl::StatusOr<ReplayResult> ReplayAttentionFiles(const std::string& layer_path,
                                                  const std::string& input_path,
                                                  const ReplayOptions& options) {
  absl::StatusOr<AttentionLayerFile> layer = LoadAttentionLayer(layer_path);
  if (!layer.ok()) return layer.status();
  absl::StatusOr<FloatMatrix> hidden = LoadReplayInput(input_path, layer->spec.d_model);
  if (!hidden.ok()) return hidden.status();
  absl::StatusOr<ReplayResult> result = RunAttentionReplay(*layer, *hidden, options, layer_path);
  if (!result.ok()) return result.status();
  result->config["layer"] = layer_path;
  result->config["input"] = input_path;
  return result;
}

absl::Status WriteReplayOutputs(const std::string& path, const ReplayResult& result) {
  std::vector<model::TensorToWrite> tensors = {F32Tensor("output", result.output)};
  if (result.output_int8.size() > 0)
    tensors.push_back(F32Tensor("output_int8", result.output_int8));
  tensors.push_back(F32Tensor("sink_mass", result.sink_mass));
  return model::WriteSafetensors(path, tensors, {{"format", "pt"}});
}

}  // namespace sinkscope::analysis
