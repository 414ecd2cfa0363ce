// File: train/emergence.cc
#include "train/emergence.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "analysis/activation_scan.h"

namespace sinkscope::train {

absl::StatusOr<sinkscope::v1::EmergencePoint> MeasureEmergence(
    const std::string& dir, const std::vector<std::vector<int32_t>>& sequences) {
  if (sequences.empty()) return absl::InvalidArgumentError("MeasureEmergence: no sequences");
  absl::StatusOr<analysis::ActivationScanInput> model = analysis::OpenModel(dir);
  if (!model.ok()) return model.status();
  analysis::ActivationScanOptions o;
  o.keep_sink_kv_fp32 = {0, 1};
  o.map_size = 1;
  o.top_k = 1;
  const int L = model->transformer->config().num_layers;
  const int H = model->transformer->config().num_heads;
  sinkscope::v1::EmergencePoint e;
  e.set_checkpoint(dir);
  std::vector<double> mass(static_cast<size_t>(L) * H, 0.0), slot(mass.size(), 0.0);
  std::vector<double> sqnr(L, 0.0), sqnr_keep(L, 0.0);
  int64_t sinks = 0, heads = 0;
  for (const std::vector<int32_t>& ids : sequences) {
    absl::StatusOr<sinkscope::v1::ActivationReport> r = analysis::ScanActivations(*model, ids, o);
    if (!r.ok()) return r.status();
    for (const sinkscope::v1::LayerReport& layer : r->layers()) {
      const int l = layer.layer();
      for (const sinkscope::v1::HeadSink& h : layer.heads()) {
        mass[static_cast<size_t>(l) * H + h.head()] += h.first_token_mass() / sequences.size();
        slot[static_cast<size_t>(l) * H + h.head()] += h.sink_slot_mass() / sequences.size();
        sinks += h.is_sink();
        ++heads;
      }
      for (const sinkscope::v1::QuantError& q : layer.quant_errors()) {
        // Exact outputs (+inf dB) are capped so that averages stay finite.
        const double db = std::isfinite(q.sqnr_db()) ? q.sqnr_db() : 200.0;
        if (q.name() == "keep_sink_kv_fp32=0/output") sqnr[l] += db / sequences.size();
        if (q.name() == "keep_sink_kv_fp32=1/output") sqnr_keep[l] += db / sequences.size();
      }
      const double median = layer.median_abs();
      if (median > 0.0 && layer.hidden_outliers().top_entries_size() > 0) {
        const sinkscope::v1::TensorEntry& top = layer.hidden_outliers().top_entries(0);
        const double ratio = std::abs(top.value()) / median;
        if (ratio > e.abs_max_over_median()) {
          e.set_abs_max_over_median(ratio);
          e.set_abs_max(std::abs(top.value()));
          e.set_max_layer(l);
          e.set_max_token(top.token());
          e.set_max_channel(top.channel());
        }
      }
      if (median > 0.0 && layer.hidden_outliers().token_abs_max_size() > 0) {
        const double ratio = layer.hidden_outliers().token_abs_max(0) / median;
        if (ratio > e.first_token_abs_max_over_median()) {
          e.set_first_token_abs_max_over_median(ratio);
          e.set_first_token_max_layer(l);
        }
      }
    }
  }
  e.set_sink_rate(heads > 0 ? 100.0 * sinks / heads : 0.0);
  for (double m : mass) e.add_first_token_mass(m);
  for (double m : slot) e.add_sink_slot_mass(m);
  for (int l = 0; l < L; ++l) {
    e.add_attention_sqnr_db(sqnr[l]);
    e.add_attention_sqnr_db_keep_sink(sqnr_keep[l]);
  }
  return e;
}

}  // namespace sinkscope::train
