#include "analysis/activation_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "analysis/sink_metrics.h"
#include "analysis/tensor_summary.h"
#include "attention/int8_attention.h"
#include "base/atomic_file.h"

namespace sinkscope::analysis {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

model::TypedTensorView ViewOfMatrix(const quant::FloatMatrix& m) {
  return model::TypedTensorView{reinterpret_cast<const uint8_t*>(m.data()), model::DType::kF32,
                                {m.rows(), m.cols()}};
}

// probs [rows x cols] averaged over pool x pool cells.
sinkscope::v1::AttentionMap PooledMap(int layer, int head, const quant::FloatMatrix& probs,
                                      const float* slot, int map_size) {
  sinkscope::v1::AttentionMap map;
  map.set_layer(layer);
  map.set_head(head);
  const int64_t pool = std::max<int64_t>(
      1, (std::max(probs.rows(), probs.cols()) + map_size - 1) / std::max(map_size, 1));
  const int64_t rows = (probs.rows() + pool - 1) / pool, cols = (probs.cols() + pool - 1) / pool;
  map.set_rows(static_cast<int>(rows));
  map.set_cols(static_cast<int>(cols));
  map.set_pool(static_cast<int>(pool));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t r0 = r * pool, c0 = c * pool;
      const int64_t nr = std::min(pool, probs.rows() - r0), nc = std::min(pool, probs.cols() - c0);
      map.add_probs(probs.block(r0, c0, nr, nc).mean());
    }
    if (slot != nullptr) {
      double s = 0.0;
      const int64_t r0 = r * pool, nr = std::min(pool, probs.rows() - r0);
      for (int64_t i = 0; i < nr; ++i) s += slot[r0 + i];
      map.add_sink_slot_mass(static_cast<float>(s / nr));
    }
  }
  return map;
}

}  // namespace

absl::StatusOr<ActivationScanInput> OpenModel(const std::string& path) {
  ActivationScanInput in;
  in.path = path;
  absl::StatusOr<std::unique_ptr<model::Checkpoint>> ckpt = model::Checkpoint::Open(path);
  if (!ckpt.ok()) return ckpt.status();
  in.checkpoint = *std::move(ckpt);
  const std::string config_path = (IsDirectory(path) ? path : DirectoryOf(path)) + "/config.json";
  std::string json;
  if (absl::Status st = model::ReadFileToString(config_path, &json, 64 << 20); !st.ok()) return st;
  absl::StatusOr<model::ModelConfig> config = model::ParseModelConfig(json);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", config.status().message()));
  }
  const model::Checkpoint* c = in.checkpoint.get();
  absl::StatusOr<model::Transformer> t = model::Transformer::Create(
      *config, [c](const std::string& name) { return c->View(name); });
  if (!t.ok()) return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  in.transformer = std::make_unique<model::Transformer>(*std::move(t));
  return in;
}

absl::StatusOr<std::vector<int32_t>> ReadTokenIds(const std::string& path) {
  std::string text;
  if (absl::Status st = model::ReadFileToString(path, &text, 256 << 20); !st.ok()) return st;
  std::vector<int32_t> ids;
  int index = 0;
  for (absl::string_view piece : absl::StrSplit(text, absl::ByAnyChar(" \t\r\n,"), absl::SkipEmpty())) {
    int32_t id = 0;
    if (!absl::SimpleAtoi(piece, &id) || id < 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": token ", index, " ('", piece,
                                                     "') is not a non-negative integer"));
    }
    ids.push_back(id);
    ++index;
  }
  if (ids.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no token ids"));
  return ids;
}

absl::StatusOr<sinkscope::v1::ActivationReport> ScanActivations(
    const ActivationScanInput& model, const std::vector<int32_t>& ids,
    const ActivationScanOptions& o) {
  sinkscope::v1::ActivationReport report;
  const model::ModelConfig& c = model.transformer->config();
  report.set_model(model.path);
  report.set_num_layers(c.num_layers);
  report.set_num_tokens(static_cast<int>(ids.size()));
  report.set_num_sequences(1);
  report.set_sink_epsilon(o.sink_epsilon);
  report.set_abs_threshold(o.massive.abs_threshold);
  report.set_ratio_threshold(o.massive.ratio_threshold);
  absl::Status hook_status;
  std::vector<sinkscope::v1::HeadSink> all_heads;
  model::ForwardHooks hooks;
  hooks.capture_attention = true;
  hooks.on_layer = [&](int l, const model::LayerCapture& cap) {
    if (!hook_status.ok()) return;
    sinkscope::v1::LayerReport* layer = report.add_layers();
    layer->set_layer(l);
    const model::TypedTensorView hidden = ViewOfMatrix(cap.block_output);
    *layer->mutable_hidden() = Summarize(hidden);
    *layer->mutable_hidden_outliers() = ProfileOutliers(hidden, o.top_k);
    const MassiveActivationResult m = DetectMassiveActivations(hidden, l, o.massive);
    layer->set_median_abs(m.median_abs);
    for (const auto& hit : m.hits) *layer->add_massive() = hit;
    const attention::AttentionIntermediates& inter = *cap.attention;
    for (int h = 0; h < static_cast<int>(inter.probs.size()); ++h) {
      const quant::FloatMatrix& p = inter.probs[h];
      const float* slot = inter.slot_mass.rows() > h ? inter.slot_mass.data() + h * inter.slot_mass.cols() : nullptr;
      HeadProbabilities hp{p.data(), p.rows(), p.cols(), slot,
                           /*normalize_rows=*/c.attention_variant == attention::Variant::kSigmoid};
      sinkscope::v1::HeadSink s = MeasureHeadSink(hp, l, h, o.sink_epsilon);
      all_heads.push_back(s);
      *layer->add_heads() = std::move(s);
      *layer->add_attention() = PooledMap(l, h, p, slot, o.map_size);
    }
    if (o.on_layer) {
      hook_status = o.on_layer(l, cap);
      if (!hook_status.ok()) return;
    }
    if (!o.int8) return;
    for (int keep : o.keep_sink_kv_fp32) {
      attention::AttentionQuantConfig cfg;
      cfg.keep_sink_kv_fp32 = keep;
      absl::StatusOr<attention::Int8Attention> q = attention::Int8Attention::Create(
          cap.attention_layer->spec(), cap.attention_layer->weights(), cfg);
      if (!q.ok()) {
        hook_status = q.status();
        return;
      }
      absl::StatusOr<attention::Int8Comparison> cmp =
          attention::CompareInt8(*cap.attention_layer, *q, cap.attention_input);
      if (!cmp.ok()) {
        hook_status = cmp.status();
        return;
      }
      for (sinkscope::v1::QuantError e : cmp->stages) {
        e.set_name(absl::StrCat("keep_sink_kv_fp32=", keep, "/", e.name()));
        *layer->add_quant_errors() = std::move(e);
      }
    }
  };
  absl::StatusOr<model::ForwardResult> r = model.transformer->Forward(ids, hooks);
  if (!r.ok()) return r.status();
  if (!hook_status.ok()) return hook_status;
  report.set_sink_rate(SinkRate(all_heads, o.sink_epsilon));
  report.set_mean_nll(r->num_predicted > 0 ? r->mean_nll : 0.0);
  report.set_num_predicted(r->num_predicted);
  return report;
}

}  // namespace sinkscope::analysis
