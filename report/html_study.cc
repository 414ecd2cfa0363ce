// html_study.cc: the sink study section: the answer per variant, int8 attention cost per
// configuration, StreamingLLM with and without sink tokens; then the study's training,
// activation and receptive-field reports.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_bar_chart.h"
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
      rows.push_back({v.name(), v.layer_pattern(), Num(v.sink_rate()), Num(v.first_token_mass()),
                      Num(v.abs_max_over_median()), absl::StrCat(v.massive_activations()),
                      DbText(v.default_sqnr_db()), DbText(v.protected_sqnr_db()),
                      Num(v.protected_sqnr_db() - v.default_sqnr_db()), window, sinks, full});
    }
    AppendTable({"variant", "layers (S/F)", "Sink_1^ε %", "first-token mass", "abs-max / median",
                 "massive activations", "SQNR dB default", "SQNR dB protected", "gain dB",
                 "stream NLL window-only", "stream NLL with sinks", "stream NLL full"},
                rows, out);
  }
  if (s.rows_size() > 0) {
    std::vector<LabelledValue> values;
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyRow& r : s.rows()) {
      values.push_back({r.variant(), r.config(), r.attention_error().sqnr_db()});
      rows.push_back({r.variant(), r.config(), Num(r.sink_rate()), Num(r.abs_max_over_median()),
                      DbText(r.attention_error().sqnr_db()),
                      r.layers_size() > 0 ? DbText(r.worst_layer_sqnr_db()) : "",
                      Num(r.attention_error().cosine()), Num(r.streaming_nll())});
    }
    *out += "<h3>int8 attention cost per configuration</h3>\n";
    std::vector<std::string> charts = {QuantErrorChart(
        "Attention-output SQNR by variant and configuration", "variant", values)};
    for (const v1::StudyVariant& v : s.variants()) {
      std::vector<LabelledValue> per_layer;
      for (const v1::StudyRow& r : s.rows()) {
        if (r.variant() != v.name()) continue;
        for (const v1::StudyLayerError& l : r.layers()) {
          per_layer.push_back({absl::StrCat("layer ", l.layer()), r.config(), l.output().sqnr_db()});
        }
      }
      if (!per_layer.empty()) {
        charts.push_back(QuantErrorChart(absl::StrCat("SQNR per layer and configuration: ",
                                                      Shorten(v.name(), 40)),
                                         "layer", per_layer));
      }
    }
    AppendCharts(charts, out);
    AppendTable({"variant", "configuration", "sink rate %", "abs-max / median", "SQNR dB",
                 "worst layer dB", "cosine", "streaming NLL"},
                rows, out);
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
