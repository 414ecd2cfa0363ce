// html_study.cc: the sink study section: the answer per variant, int8 attention cost per
// configuration (value heatmaps by variant and per layer, the rows table folded), StreamingLLM
// with and without sink tokens; then the study's training, activation and receptive-field
// reports.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_bar_chart.h"
#include "report/svg_heatmap.h"
#include "report/svg_line_chart.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::BarChart;
using svg::BarChartSpec;
using svg::BarGroup;
using svg::DbText;
using svg::LineChart;
using svg::LineChartSpec;
using svg::LineSeries;
using svg::Num;
using svg::Shorten;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Mean NLL per StreamingLLM configuration, grouped by variant.
std::string StreamingBars(const v1::StudyReport& s) {
  BarChartSpec spec;
  spec.kind = "streaming";
  spec.title = "StreamingLLM: mean NLL per cache configuration";
  spec.x_label = "variant";
  spec.y_label = "mean NLL (nats, lower is better)";
  std::map<std::string, size_t> series_index;
  for (const v1::StudyVariant& v : s.variants()) {
    for (const v1::StreamingRun& r : v.streaming().runs()) {
      if (series_index.emplace(r.name(), spec.series.size()).second) spec.series.push_back(r.name());
    }
  }
  if (spec.series.empty()) return "";
  for (const v1::StudyVariant& v : s.variants()) {
    BarGroup g{v.name(), std::vector<double>(spec.series.size(), kNaN), 0};
    for (const v1::StreamingRun& r : v.streaming().runs()) g.values[series_index[r.name()]] = r.mean_nll();
    spec.groups.push_back(std::move(g));
  }
  return BarChart(spec);
}

// NLL against stream position, one series per configuration, for one variant.
std::string StreamingCurves(const v1::StudyVariant& v) {
  LineChartSpec spec;
  spec.kind = "streaming";
  spec.title = absl::StrCat("StreamingLLM NLL by position: ", Shorten(v.name(), 40), " (cache ",
                            v.streaming().cache_size(), ")");
  spec.x_label = "stream position (tokens)";
  spec.y_label = "mean NLL per block (nats)";
  for (const v1::StreamingRun& r : v.streaming().runs()) {
    LineSeries series;
    series.name = r.name();
    series.x.assign(r.nll_by_position().distance().begin(), r.nll_by_position().distance().end());
    series.y.assign(r.nll_by_position().value().begin(), r.nll_by_position().value().end());
    if (!series.x.empty()) spec.series.push_back(std::move(series));
  }
  if (spec.series.empty()) return "";
  return LineChart(spec);
}

// Appends `name` unless it is there already.
void AddOnce(const std::string& name, std::vector<std::string>* names) {
  if (std::find(names->begin(), names->end(), name) == names->end()) names->push_back(name);
}

// Index of each name.
std::map<std::string, size_t> IndexOf(const std::vector<std::string>& names) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < names.size(); ++i) index.emplace(names[i], i);
  return index;
}

// The variants that have rows: in the report's variant order, then any other a row names.
std::vector<std::string> VariantOrder(const v1::StudyReport& s) {
  std::vector<std::string> in_rows;
  for (const v1::StudyRow& r : s.rows()) AddOnce(r.variant(), &in_rows);
  std::vector<std::string> order;
  for (const v1::StudyVariant& v : s.variants()) {
    if (std::find(in_rows.begin(), in_rows.end(), v.name()) != in_rows.end()) {
      AddOnce(v.name(), &order);
    }
  }
  for (const std::string& v : in_rows) AddOnce(v, &order);
  return order;
}

// The configurations the rows use: in the report's configuration order, then any other.
std::vector<std::string> ConfigOrder(const v1::StudyReport& s) {
  std::vector<std::string> in_rows;
  for (const v1::StudyRow& r : s.rows()) AddOnce(r.config(), &in_rows);
  std::vector<std::string> order;
  for (const v1::StudyQuantConfig& c : s.configs()) {
    if (std::find(in_rows.begin(), in_rows.end(), c.name()) != in_rows.end()) {
      AddOnce(c.name(), &order);
    }
  }
  for (const std::string& c : in_rows) AddOnce(c, &order);
  return order;
}

// Attention-output SQNR: rows = variants, columns = configurations.
std::string SqnrByVariantHeatmap(const v1::StudyReport& s, const std::vector<std::string>& variants,
                                 const std::vector<std::string>& configs) {
  svg::ValueHeatmapSpec spec;
  spec.title = "Attention-output SQNR (dB) by variant and configuration";
  spec.row_labels = variants;
  spec.col_labels = configs;
  spec.value_label = "SQNR dB";
  spec.values.assign(variants.size() * configs.size(), kNaN);
  const std::map<std::string, size_t> variant_index = IndexOf(variants);
  const std::map<std::string, size_t> config_index = IndexOf(configs);
  for (const v1::StudyRow& r : s.rows()) {
    spec.values[variant_index.at(r.variant()) * configs.size() + config_index.at(r.config())] =
        r.attention_error().sqnr_db();
  }
  return svg::ValueHeatmap(spec);
}

// Small multiples: per variant, SQNR per layer (rows) and configuration (columns), on one colour
// scale over all of them. Variants without per-layer errors get no map.
std::vector<std::string> SqnrPerLayerHeatmaps(const v1::StudyReport& s,
                                              const std::vector<std::string>& variants,
                                              const std::vector<std::string>& configs) {
  const std::map<std::string, size_t> config_index = IndexOf(configs);
  std::vector<svg::ValueHeatmapSpec> specs;
  std::vector<double> all;
  for (const std::string& variant : variants) {
    std::map<int, std::vector<double>> by_layer;  // layer -> one value per configuration
    for (const v1::StudyRow& r : s.rows()) {
      if (r.variant() != variant) continue;
      for (const v1::StudyLayerError& l : r.layers()) {
        std::vector<double>& row = by_layer[l.layer()];
        row.resize(configs.size(), kNaN);
        row[config_index.at(r.config())] = l.output().sqnr_db();
        all.push_back(l.output().sqnr_db());
      }
    }
    if (by_layer.empty()) continue;
    svg::ValueHeatmapSpec spec;
    spec.title = absl::StrCat("SQNR (dB) per layer and configuration: ", Shorten(variant, 40));
    spec.col_labels = configs;
    spec.value_label = "SQNR dB";
    spec.cell_w = 34.0;
    spec.cell_h = 18.0;
    spec.value_font_px = 9.0;
    for (const auto& [layer, values] : by_layer) {
      spec.row_labels.push_back(absl::StrCat("layer ", layer));
      spec.values.insert(spec.values.end(), values.begin(), values.end());
    }
    specs.push_back(std::move(spec));
  }
  std::vector<std::string> charts;
  const svg::ValueColorScale colors = svg::ValueColorScale::Over(all);
  for (svg::ValueHeatmapSpec& spec : specs) {
    spec.colors = colors;
    charts.push_back(svg::ValueHeatmap(spec));
  }
  return charts;
}

// End to end: rows = variants, columns = whole-model configurations, colour = log10 KL (the
// cell prints the KL itself); skipped cells are missing (grey).
std::string KlByVariantHeatmap(const v1::StudyReport& s) {
  std::vector<std::string> variants, configs;
  for (const v1::StudyEndToEnd& e : s.end_to_end()) {
    AddOnce(e.variant(), &variants);
    AddOnce(e.name(), &configs);
  }
  if (variants.empty()) return "";
  svg::ValueHeatmapSpec spec;
  spec.kind = "kl-heatmap";
  spec.title = "End to end: KL(p_fp32 || p_config) per token by variant and configuration";
  spec.row_labels = variants;
  spec.col_labels = configs;
  spec.value_label = "KL nats (log colour; darker is worse)";
  spec.format = [](double v) { return absl::StrFormat("%.2g", std::pow(10.0, v)); };
  spec.values.assign(variants.size() * configs.size(), kNaN);
  const std::map<std::string, size_t> variant_index = IndexOf(variants);
  const std::map<std::string, size_t> config_index = IndexOf(configs);
  for (const v1::StudyEndToEnd& e : s.end_to_end()) {
    if (!e.skipped().empty() || !(e.mean_kl() > 0.0)) continue;
    spec.values[variant_index.at(e.variant()) * configs.size() + config_index.at(e.name())] =
        std::log10(e.mean_kl());
  }
  spec.cell_w = 60.0;
  return svg::ValueHeatmap(spec);
}

// Position or content: first-token mass per layer before and after the replacement, one pair of
// lines per variant that has a sink.
std::string PositionProbeChart(const v1::StudyReport& s) {
  LineChartSpec spec;
  spec.kind = "position-probe";
  spec.title = "Position or content: token-0 mass per layer, before / after";
  spec.x_label = "layer";
  spec.y_label = "mean attention on token 0 (queries after the replaced tokens)";
  for (const v1::StudyPositionProbe& p : s.position_probes()) {
    if (p.verdict() == "no sink") continue;
    for (int pass = 0; pass < 2; ++pass) {
      LineSeries series;
      series.name = absl::StrCat(Shorten(p.variant(), 24), pass == 0 ? " before" : " after");
      const auto& values = pass == 0 ? p.first_token_mass_before() : p.first_token_mass_after();
      for (int l = 0; l < values.size(); ++l) {
        series.x.push_back(l);
        series.y.push_back(values[l]);
      }
      if (!series.x.empty()) spec.series.push_back(std::move(series));
    }
  }
  if (spec.series.empty()) return "";
  return LineChart(spec);
}

}  // namespace

void AppendStudyReport(const v1::StudyReport& s, std::string* out) {
  *out += "<section><h2>Sink study</h2>\n";
  if (!s.note().empty()) AppendNote(s.note(), out);
  if (s.variants_size() > 0) {
    *out += "<h3>The answer, per variant</h3>\n";
    AppendNote(
        "Sink_1^ε: % of layer-heads whose first-token mass exceeds ε. abs-max / median: the "
        "largest over layers of the hidden state's abs-max over its median |h|. SQNR: the int8 "
        "attention output against fp32, pooled over layers (higher is better); protected keeps "
        "the first keys' K/V in fp32. Streaming: mean NLL of a stream longer than the cache, "
        "window-only against sink tokens + window against full attention.",
        out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyVariant& v : s.variants()) {
      std::string window = "–", sinks = "–", full = "–";
      int best = -1;
      for (const v1::StreamingRun& r : v.streaming().runs()) {
        if (r.window() == 0) {
          full = Num(r.mean_nll());
        } else if (r.n_sink() == 0) {
          window = Num(r.mean_nll());
        } else if (r.n_sink() > best) {
          best = r.n_sink();
          sinks = absl::StrCat(Num(r.mean_nll()), " (", r.name(), ")");
        }
      }
      if (!v.streaming().skipped().empty()) window = v.streaming().skipped();
      const auto kl = [](double v) { return std::isfinite(v) ? absl::StrFormat("%.3g", v) : "–"; };
      rows.push_back({v.name(), v.layer_pattern(), Num(v.sink_rate()), Num(v.first_token_mass()),
                      Num(v.abs_max_over_median()), absl::StrCat(v.massive_activations()),
                      DbText(v.default_sqnr_db()), DbText(v.protected_sqnr_db()),
                      Num(v.protected_sqnr_db() - v.default_sqnr_db()), window, sinks, full,
                      kl(v.w8a8_tensor_kl()), kl(v.kv4_kl()),
                      v.best_remedy().empty()
                          ? "–"
                          : absl::StrCat(v.best_remedy(), " (", kl(v.best_remedy_kl()), ")"),
                      v.position_verdict().empty() ? "–" : v.position_verdict()});
    }
    AppendTable({"variant", "layers (S/F)", "Sink_1^ε %", "first-token mass", "abs-max / median",
                 "massive activations", "SQNR dB default", "SQNR dB protected", "gain dB",
                 "stream NLL window-only", "stream NLL with sinks", "stream NLL full",
                 "KL w8a8_tensor", "KL kv4", "best remedy (KL)", "position probe"},
                rows, out);
  }
  if (s.end_to_end_size() > 0) {
    *out += "<h3>End to end: what each whole-model configuration costs</h3>\n";
    AppendNote(
        "KL(p_fp32 || p_config) per predicted token (nats) of the whole model quantized "
        "(quant_eval's configurations and remedies) against the same model in fp32, on the "
        "held-out sequences; beside it, the layer-local attention SQNR heatmap below.",
        out);
    AppendCharts({KlByVariantHeatmap(s)}, out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyEndToEnd& e : s.end_to_end()) {
      rows.push_back({e.variant(), e.name(), e.skipped().empty() ? Num(e.mean_nll()) : e.skipped(),
                      Num(e.delta_nll()), absl::StrFormat("%.3g", e.mean_kl()),
                      Num(100.0 * e.top1_agreement()), absl::StrCat(e.worst_layer()),
                      DbText(e.worst_layer_sqnr_db())});
    }
    absl::StrAppend(out, "<details><summary>All end-to-end runs (", rows.size(), ")</summary>\n");
    AppendTable({"variant", "configuration", "mean NLL", "ΔNLL", "KL nats", "top-1 agreement %",
                 "worst layer", "its residual SQNR dB"},
                rows, out);
    *out += "</details>\n";
  }
  if (s.position_probes_size() > 0) {
    *out += "<h3>Position or content?</h3>\n";
    AppendNote(
        "StreamingLLM's experiment: the first tokens replaced by a filler; the attention that "
        "the unchanged queries put on token 0 (and on the replaced tokens) before and after. "
        "Positional: at least half stays; content: it moves; no sink: under 0.1 before.",
        out);
    AppendCharts({PositionProbeChart(s)}, out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyPositionProbe& p : s.position_probes()) {
      double b4 = 0.0, a4 = 0.0;
      for (double v : p.first_tokens_mass_before()) b4 += v;
      for (double v : p.first_tokens_mass_after()) a4 += v;
      const int n = std::max(1, p.first_tokens_mass_before_size());
      rows.push_back({p.variant(), absl::StrCat(p.filler(), " = ", p.filler_id()),
                      Num(p.mass_before()), Num(p.mass_after()), Num(b4 / n), Num(a4 / n),
                      p.verdict()});
    }
    AppendTable({"variant", "filler", "token-0 mass before", "after",
                 absl::StrCat("first ", s.position_probes(0).replaced(), " mass before"), "after",
                 "verdict"},
                rows, out);
  }
  if (s.rows_size() > 0) {
    const std::vector<std::string> variants = VariantOrder(s);
    const std::vector<std::string> configs = ConfigOrder(s);
    *out += "<h3>int8 attention cost per configuration</h3>\n";
    AppendNote(
        "SQNR of the int8 attention output against fp32 (dB, higher and darker is better), "
        "pooled over layers; \"exact\": the int8 output equals the reference.",
        out);
    AppendCharts({SqnrByVariantHeatmap(s, variants, configs)}, out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyRow& r : s.rows()) {
      rows.push_back({r.variant(), r.config(), Num(r.sink_rate()), Num(r.abs_max_over_median()),
                      DbText(r.attention_error().sqnr_db()),
                      r.layers_size() > 0 ? DbText(r.worst_layer_sqnr_db()) : "",
                      Num(r.attention_error().cosine()), Num(r.streaming_nll())});
    }
    absl::StrAppend(out, "<details><summary>All configurations (", rows.size(),
                    " rows)</summary>\n");
    AppendTable({"variant", "configuration", "sink rate %", "abs-max / median", "SQNR dB",
                 "worst layer dB", "cosine", "streaming NLL"},
                rows, out);
    *out += "</details>\n";
    const std::vector<std::string> per_layer = SqnrPerLayerHeatmaps(s, variants, configs);
    if (!per_layer.empty()) {
      *out += "<h3>int8 attention cost per layer</h3>\n";
      AppendNote("SQNR per layer (rows) and configuration (columns), one map per variant, all on "
                 "one colour scale.",
                 out);
      AppendCharts(per_layer, out);
    }
  }
  std::vector<std::string> streaming = {StreamingBars(s)};
  for (const v1::StudyVariant& v : s.variants()) streaming.push_back(StreamingCurves(v));
  if (std::any_of(streaming.begin(), streaming.end(), [](const std::string& c) { return !c.empty(); })) {
    *out += "<h3>StreamingLLM: a bounded cache with and without sink tokens</h3>\n";
    AppendNote(
        "Each layer keeps n_sink first tokens plus a rolling window (positions within the "
        "cache); \"window\" keeps no sinks, \"full\" attends to the whole stream.",
        out);
    AppendCharts(streaming, out);
  }
  *out += "</section>\n";
  if (s.has_training()) AppendTrainingReport(s.training(), out);
  for (const v1::ActivationReport& a : s.activations()) AppendActivationReport(a, out);
  for (const v1::ReceptiveFieldReport& r : s.receptive_fields()) AppendReceptiveField(r, out);
}

}  // namespace sinkscope::analysis::html_internal
