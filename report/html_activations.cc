// html_activations.cc: the activation section: hidden-state magnitude per layer, attention
// heatmaps, channel profiles, SQNR per layer, per-head sink grids and massive activations.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_bar_chart.h"
#include "report/svg_color.h"
#include "report/svg_heatmap.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::BarChart;
using svg::BarChartSpec;
using svg::Escape;
using svg::Num;
using svg::SequentialColor;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxMassiveRows = 200;

// One attention map on the probability heatmap; maps larger than 2^28 cells are malformed.
std::string AttentionHeatmap(const v1::AttentionMap& map) {
  const int rows = std::max(0, map.rows());
  const int cols = std::max(0, map.cols());
  svg::ProbabilityHeatmapSpec spec;
  spec.heading = absl::StrCat("layer ", map.layer(), " head ", map.head());
  spec.title = absl::StrCat(spec.heading, ": attention probabilities, rows = queries, cols = keys");
  svg::Grid& g = spec.probs;
  g.rows = rows;
  g.cols = cols;
  if (rows > 0 && cols > 0 && static_cast<int64_t>(rows) * cols <= (int64_t{1} << 28)) {
    g.v.assign(static_cast<size_t>(rows) * cols, kNaN);
    const size_t n = std::min(g.v.size(), static_cast<size_t>(map.probs_size()));
    for (size_t i = 0; i < n; ++i) g.v[i] = map.probs(static_cast<int>(i));
  } else {
    g.rows = g.cols = 0;
  }
  spec.sink.assign(map.sink_slot_mass().begin(), map.sink_slot_mass().end());
  spec.positions_per_cell = map.pool();
  return svg::ProbabilityHeatmap(spec);
}

double LayerMedian(const v1::LayerReport& l) {
  return l.median_abs() != 0.0 ? l.median_abs() : l.hidden().median_abs();
}

std::string LayerBarsChart(const v1::ActivationReport& a) {
  BarChartSpec spec;
  spec.kind = "layer-bars";
  spec.title = "Hidden-state magnitude per layer";
  spec.x_label = "layer";
  spec.y_label = "|activation| (log scale)";
  spec.log_y = true;
  spec.series = {"abs-max |h|", "median |h|"};
  spec.marker_legend = "layer with massive activations (count)";
  for (const v1::LayerReport& l : a.layers()) {
    spec.groups.push_back(
        {absl::StrCat(l.layer()), {l.hidden().abs_max(), LayerMedian(l)}, l.massive_size()});
  }
  return BarChart(spec);
}

// A layers x heads grid of one HeadSink field, coloured on the linear Blues scale in [0, 1].
// With `mark_sinks`, sink heads (is_sink) get a "*".
void AppendHeadGrid(const v1::ActivationReport& a, double (*field)(const v1::HeadSink&),
                    bool mark_sinks, std::string* out) {
  int max_head = -1;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::HeadSink& h : l.heads()) max_head = std::max(max_head, h.head());
  }
  if (max_head < 0 || max_head > 1024) return;
  std::vector<std::string> header = {"layer \\ head"};
  for (int h = 0; h <= max_head; ++h) header.push_back(absl::StrCat(h));
  std::vector<std::vector<Cell>> rows;
  for (const v1::LayerReport& l : a.layers()) {
    if (l.heads_size() == 0) continue;
    std::vector<Cell> row(static_cast<size_t>(max_head) + 2, Cell(""));
    row[0] = Cell(absl::StrCat(l.layer()));
    for (const v1::HeadSink& h : l.heads()) {
      if (h.head() < 0) continue;
      const double v = field(h);
      const double t = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : kNaN;
      row[static_cast<size_t>(h.head()) + 1] =
          Cell(absl::StrCat(Num(v), mark_sinks && h.is_sink() ? "*" : ""),
               absl::StrCat("background:", SequentialColor(t), t > 0.55 ? ";color:#fff" : ""));
    }
    rows.push_back(std::move(row));
  }
  AppendTable(header, rows, out, "grid");
}

}  // namespace

void AppendActivationReport(const v1::ActivationReport& a, std::string* out) {
  absl::StrAppend(out, "<section><h2>Activations", a.model().empty() ? "" : ": ",
                  Escape(a.model()), "</h2>\n");
  AppendFields(
      {{"model", a.model()},
       {"layers", absl::StrCat(a.num_layers())},
       {"tokens", absl::StrCat(a.num_tokens())},
       {"sequences", a.num_sequences() > 0 ? absl::StrCat(a.num_sequences()) : ""},
       {"sink rate Sink_1^ε (% of layer-heads)",
        absl::StrCat(Num(a.sink_rate()), " % (ε = ", Num(a.sink_epsilon()), ")")},
       {"massive activation thresholds",
        absl::StrCat("|x| > ", Num(a.abs_threshold()), " and |x| ≥ ", Num(a.ratio_threshold()),
                     " × median |h|")}},
      out);
  if (a.layers_size() == 0) {
    AppendNote("No layers recorded.", out);
    *out += "</section>\n";
    return;
  }

  *out += "<h3>Hidden-state magnitude</h3>\n";
  AppendCharts({LayerBarsChart(a)}, out);

  std::vector<std::string> heatmaps;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::AttentionMap& m : l.attention()) heatmaps.push_back(AttentionHeatmap(m));
  }
  if (!heatmaps.empty()) {
    *out += "<h3>Attention probabilities</h3>\n";
    AppendNote(
        "Rows are queries, columns keys; colour is sqrt(p) so that small probabilities stay "
        "visible. Column 0 is the first token (the usual sink); the separate \"sink\" column, "
        "when present, is the mass taken by a sink logit or KV-bias slot.",
        out);
    AppendCharts(heatmaps, out);
  }

  std::vector<std::string> profiles;
  for (const v1::LayerReport& l : a.layers()) {
    profiles.push_back(
        ChannelProfileChart(absl::StrCat("layer ", l.layer(), " hidden state"), l.hidden_outliers()));
  }
  if (std::any_of(profiles.begin(), profiles.end(), [](const std::string& s) { return !s.empty(); })) {
    *out += "<h3>Per-channel magnitude of the hidden state</h3>\n";
    AppendCharts(profiles, out);
  }

  std::vector<LabelledValue> errors;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::QuantError& e : l.quant_errors()) {
      errors.push_back({absl::StrCat("layer ", l.layer()), ErrorSeriesName(e), e.sqnr_db()});
    }
  }
  if (!errors.empty()) {
    *out += "<h3>Quantization error per layer</h3>\n";
    AppendCharts({QuantErrorChart("Quantization SQNR per layer", "layer", errors)}, out);
  }

  *out += "<h3>Layers</h3>\n";
  std::vector<std::vector<Cell>> layer_rows;
  for (const v1::LayerReport& l : a.layers()) {
    int sinks = 0;
    for (const v1::HeadSink& h : l.heads()) sinks += h.is_sink();
    layer_rows.push_back({absl::StrCat(l.layer()), Num(l.hidden().abs_max()), Num(LayerMedian(l)),
                          Num(l.hidden().abs_max_over_median()), Num(l.hidden().kurtosis()),
                          absl::StrCat(l.massive_size()),
                          absl::StrCat(sinks, " / ", l.heads_size())});
  }
  AppendTable({"layer", "abs-max |h|", "median |h|", "abs-max / median", "kurtosis",
               "massive activations", "sink heads"},
              layer_rows, out);

  bool any_heads = false;
  bool any_slot = false;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::HeadSink& h : l.heads()) {
      any_heads = true;
      any_slot |= h.sink_slot_mass() != 0.0;
    }
  }
  if (any_heads) {
    *out += "<h3>First-token attention mass per head</h3>\n";
    AppendNote("alpha_1: mean over queries of the probability on key 0; * marks a sink head.", out);
    AppendHeadGrid(
        a, [](const v1::HeadSink& h) { return h.first_token_mass(); }, /*mark_sinks=*/true, out);
  }
  if (any_slot) {
    *out += "<h3>Sink-slot mass per head</h3>\n";
    AppendHeadGrid(
        a, [](const v1::HeadSink& h) { return h.sink_slot_mass(); }, /*mark_sinks=*/false, out);
  }

  std::vector<std::vector<Cell>> massive;
  int total_massive = 0;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::MassiveActivation& m : l.massive()) {
      ++total_massive;
      if (massive.size() >= static_cast<size_t>(kMaxMassiveRows)) continue;
      massive.push_back({absl::StrCat(m.layer()), absl::StrCat(m.token()), absl::StrCat(m.channel()),
                         Num(m.value()), Num(m.ratio())});
    }
  }
  if (!massive.empty()) {
    *out += "<h3>Massive activations</h3>\n";
    if (total_massive > kMaxMassiveRows) {
      AppendNote(absl::StrCat("First ", kMaxMassiveRows, " of ", total_massive, "."), out);
    }
    AppendTable({"layer", "token", "channel", "value", "|value| / median |h|"}, massive, out);
  }
  *out += "</section>\n";
}

}  // namespace sinkscope::analysis::html_internal
