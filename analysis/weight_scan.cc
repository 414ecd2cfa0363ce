#include "analysis/weight_scan.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "model/safetensors.h"
#include "quant/calibration.h"
#include "quant/error_metrics.h"
#include "quant/quant_scheme.h"

namespace sinkscope::analysis {

absl::Status ParseShard(absl::string_view text, int* index, int* count) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], index) ||
      !absl::SimpleAtoi(parts[1], count) || *count < 1 || *index < 0 || *index >= *count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard must be i/n with 0 <= i < n, got '", text, "'"));
  }
  return absl::OkStatus();
}

int LayerIndexFromName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == "layers" || parts[i] == "h" || parts[i] == "blocks" || parts[i] == "layer") {
      int layer = 0;
      if (absl::SimpleAtoi(parts[i + 1], &layer) && layer >= 0) return layer;
    }
  }
  return -1;
}

sinkscope::v1::QuantError StreamingQuantError(const model::TypedTensorView& view, bool per_row,
                                              int bits) {
  const int64_t cols = view.shape.empty() ? 1 : std::max<int64_t>(view.shape.back(), 1);
  const int64_t rows = view.size() / cols;
  quant::QuantScheme scheme = per_row ? quant::QuantScheme::PerChannel(0) : quant::QuantScheme{};
  scheme.bits = bits;
  // Pass 1: the ranges (per row or overall).
  std::vector<float> lo(per_row ? rows : 1, 0.0f), hi(per_row ? rows : 1, 0.0f);
  std::vector<bool> seen(lo.size(), false);
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const size_t g = per_row ? static_cast<size_t>((off + i) / cols) : 0;
      if (!seen[g]) {
        lo[g] = hi[g] = x[i];
        seen[g] = true;
      }
      lo[g] = std::min(lo[g], x[i]);
      hi[g] = std::max(hi[g], x[i]);
    }
  });
  std::vector<quant::ScaleAndZeroPoint> params(lo.size());
  for (size_t g = 0; g < lo.size(); ++g) params[g] = quant::CalibrateMinMax(lo[g], hi[g], scheme);
  // Pass 2: quantize, dequantize, accumulate the error.
  quant::ErrorAccumulator acc;
  const int32_t qmin = scheme.qmin(), qmax = scheme.qmax();
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const quant::ScaleAndZeroPoint p = params[per_row ? (off + i) / cols : 0];
      const int32_t q = quant::QuantizeValue(x[i], p, qmin, qmax);
      acc.Add(x[i], quant::DequantizeValue(q, p));
    }
  });
  sinkscope::v1::QuantError out = quant::ToProto(
      acc.Finish(), absl::StrCat("int", bits, per_row ? " per-channel" : " per-tensor"));
  *out.mutable_scheme() = quant::ToProto(scheme);
  out.set_path("oracle");
  return out;
}

absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const std::string& checkpoint,
                                                        const WeightScanOptions& options) {
  if (options.shard_count < 1 || options.shard_index < 0 ||
      options.shard_index >= options.shard_count) {
    return absl::InvalidArgumentError("weight scan: shard index out of range");
  }
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> file =
      model::SafetensorsFile::Open(checkpoint);
  if (!file.ok()) return file.status();
  sinkscope::v1::WeightReport report;
  report.set_checkpoint(checkpoint);
  if (options.shard_count > 1) {
    report.set_shard(absl::StrCat(options.shard_index, "/", options.shard_count));
  }
  const auto& tensors = (*file)->tensors();
  report.set_tensors_in_checkpoint(static_cast<int64_t>(tensors.size()));
  SummaryBuilder total(options.summary);
  const int scanned = static_cast<int>(
      (static_cast<int64_t>(tensors.size()) - options.shard_index + options.shard_count - 1) /
      options.shard_count);
  int done = 0;
  for (size_t i = options.shard_index; i < tensors.size(); i += options.shard_count) {
    const model::TensorInfo& info = tensors[i];
    if (options.progress) options.progress(done, scanned, info.name);
    ++done;
    const model::TypedTensorView view = (*file)->View(info);
    sinkscope::v1::TensorReport* t = report.add_tensors();
    t->set_name(info.name);
    for (int64_t d : info.shape) t->add_shape(d);
    t->set_dtype(model::DTypeName(info.dtype));
    t->set_layer(LayerIndexFromName(info.name));
    SummaryBuilder b(options.summary);
    b.Add(view);
    *t->mutable_summary() = b.ToProto();
    if (absl::Status st = total.Merge(b); !st.ok()) return st;
    if (info.shape.size() >= 2) *t->mutable_outliers() = ProfileOutliers(view, options.top_k);
    if (options.quant_errors && view.size() > 0) {
      *t->add_quant_errors() = StreamingQuantError(view, /*per_row=*/false);
      if (info.shape.size() >= 2) {
        *t->add_quant_errors() = StreamingQuantError(view, /*per_row=*/true);
      }
    }
  }
  *report.mutable_total() = total.ToProto();
  return report;
}

}  // namespace sinkscope::analysis
