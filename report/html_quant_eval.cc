// html_quant_eval.cc: the quant_eval section: KL from fp32 per configuration (log axis), the
// residual stream's SQNR per layer per configuration (where the error enters and grows), which
// remedy wins per base configuration, and the table sorted by KL.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_bar_chart.h"
#include "report/svg_line_chart.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {

namespace v1 = ::sinkscope::v1;
using svg::BarChart;
using svg::BarChartSpec;
using svg::LineChart;
using svg::LineChartSpec;
using svg::LineSeries;
using svg::Num;

void AppendQuantEval(const v1::QuantEvalReport& q, std::string* out) {
  *out += "<section><h2>What quantization costs end to end</h2>\n";
  AppendNote(absl::StrCat(q.model_type(), ", ", q.num_layers(), " layers, ", q.num_predicted(),
                          " predicted tokens; fp32 NLL ", Num(q.fp32_mean_nll()),
                          ". KL(p_fp32 || p_config) in nats, mean over predicted positions."),
             out);
  std::vector<const v1::QuantEvalConfig*> order;
  for (const v1::QuantEvalConfig& c : q.configs()) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->mean_kl() < b->mean_kl(); });
  BarChartSpec kl;
  kl.kind = "quant-eval-kl";
  kl.title = "Mean KL divergence from fp32 per configuration";
  kl.x_label = "configuration";
  kl.y_label = "KL (nats)";
  kl.log_y = true;
  kl.series = {"KL"};
  for (const auto* c : order) kl.groups.push_back({c->name(), {c->mean_kl()}, 0});
  LineChartSpec layers;
  layers.kind = "quant-eval-layers";
  layers.title = "Residual stream SQNR against fp32, per layer";
  layers.x_label = "layer";
  layers.y_label = "SQNR dB";
  for (const auto* c : order) {
    LineSeries s;
    s.name = c->name();
    for (const v1::QuantEvalLayer& l : c->layers()) {
      s.x.push_back(l.layer());
      s.y.push_back(l.residual_sqnr_db());
    }
    layers.series.push_back(std::move(s));
  }
  AppendCharts({BarChart(kl), LineChart(layers)}, out);
  std::vector<std::vector<Cell>> rows;
  for (const auto* c : order) {
    rows.push_back({c->name(), c->weights(), c->activations(), c->kv_cache(), Num(c->mean_nll()),
                    Num(c->delta_nll()), Num(c->mean_kl()), Num(100 * c->top1_agreement())});
  }
  AppendTable({"configuration", "weights", "activations", "KV cache", "NLL", "dNLL", "KL (nats)",
               "top-1 agreement %"},
              rows, out);
  // Which remedy wins, per base configuration that was also run with remedies.
  std::map<std::string, const v1::QuantEvalConfig*> bases;
  for (const auto& c : q.configs()) {
    if (c.remedies_size() == 0) bases[c.name()] = &c;
  }
  for (const auto& [name, base] : bases) {
    std::vector<std::vector<Cell>> ranked;
    for (const auto* c : order) {
      if (c->remedies_size() == 0 || c->base() != name) continue;
      std::vector<std::string> kept;
      for (const auto& s : c->linear_inputs()) {
        if (s.layer() == 0 && s.fp32_channels_size() > 0) {
          kept.push_back(absl::StrCat(s.name(), ": ", absl::StrJoin(s.fp32_channels(), ", ")));
        }
      }
      std::string detail = c->rotation();
      if (c->keep_sink_tokens() > 0) {
        detail = absl::StrCat("tokens 0..", c->keep_sink_tokens() - 1, " protected");
      }
      if (c->smooth_alpha() > 0) {
        detail = absl::StrCat("alpha ", Num(c->smooth_alpha()), ", calibrated on ",
                              c->smooth_calibration());
      }
      if (!kept.empty()) detail = absl::StrCat("layer 0 fp32 channels: ", absl::StrJoin(kept, "; "));
      ranked.push_back({c->name(), Num(c->mean_kl()),
                        c->mean_kl() > 0 ? Num(base->mean_kl() / c->mean_kl()) : "exact",
                        detail});
    }
    if (ranked.empty()) continue;
    *out += absl::StrCat("<h3>Which remedy wins for ", svg::Escape(name), " (KL ",
                         Num(base->mean_kl()), ")</h3>\n");
    AppendTable({"configuration", "KL (nats)", "KL reduction (x)", "what it did"}, ranked, out);
  }
  *out += "</section>\n";
}

}  // namespace sinkscope::analysis::html_internal
