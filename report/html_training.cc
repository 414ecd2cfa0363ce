// html_training.cc: the training section: emergence of sinks, massive activations and int8
// error over training steps, one line per run, and the final numbers per run.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_line_chart.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::DbText;
using svg::LineChart;
using svg::LineChartSpec;
using svg::LineSeries;
using svg::Num;

double MeanOf(const google::protobuf::RepeatedField<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / v.size();
}

}  // namespace

// Emergence over training: one line per run for each metric, against the step.
void AppendTrainingReport(const v1::TrainingReport& t, std::string* out) {
  *out += "<section><h2>Training: emergence over training</h2>\n";
  AppendNote(absl::StrCat("Schedule: ", t.schedule(),
                          ". Metrics on held-out sequences at every checkpoint, measured through "
                          "model/ and attention/ on the checkpoint as written."),
             out);
  struct Metric {
    const char* kind;
    const char* title;
    const char* y_label;
    bool log_y;
    double (*value)(const v1::EmergencePoint&);
  };
  const Metric metrics[] = {
      {"training-copy-loss", "Copy-position loss (held out)", "NLL (nats)", false,
       [](const v1::EmergencePoint& e) { return e.eval_copy_loss(); }},
      {"training-sink-rate", "Sink rate Sink_1^0.3", "% of heads", false,
       [](const v1::EmergencePoint& e) { return e.sink_rate(); }},
      {"training-massive", "Residual abs-max / median", "ratio", true,
       [](const v1::EmergencePoint& e) { return e.abs_max_over_median(); }},
      {"training-int8", "Int8 attention output SQNR (mean over layers)", "dB", false,
       [](const v1::EmergencePoint& e) { return MeanOf(e.attention_sqnr_db()); }},
  };
  std::vector<std::string> charts;
  for (const Metric& m : metrics) {
    LineChartSpec spec;
    spec.kind = m.kind;
    spec.title = m.title;
    spec.x_label = "training step";
    spec.y_label = m.y_label;
    spec.log_y = m.log_y;
    for (const v1::TrainingRun& r : t.runs()) {
      LineSeries series;
      series.name = r.name();
      for (const v1::EmergencePoint& e : r.emergence()) {
        series.x.push_back(static_cast<double>(e.step()));
        series.y.push_back(m.value(e));
      }
      spec.series.push_back(std::move(series));
    }
    charts.push_back(LineChart(spec));
  }
  AppendCharts(charts, out);
  std::vector<std::vector<Cell>> rows;
  for (const v1::TrainingRun& r : t.runs()) {
    if (r.emergence().empty()) continue;
    const v1::EmergencePoint& e = r.emergence(r.emergence_size() - 1);
    rows.push_back({r.name(), r.variant(), r.task(),
                    r.window() > 0 ? absl::StrCat(r.mask_pattern(), " W=", r.window())
                                   : r.mask_pattern(),
                    Num(e.eval_loss()), Num(e.eval_copy_loss()), Num(r.copy_baseline_nll()),
                    Num(e.sink_rate()), Num(e.abs_max_over_median()),
                    DbText(MeanOf(e.attention_sqnr_db())),
                    DbText(MeanOf(e.attention_sqnr_db_keep_sink())), Num(r.seconds())});
  }
  AppendTable({"run", "variant", "task", "mask", "loss", "copy loss", "copy baseline",
               "sink rate %", "abs-max / median", "int8 SQNR dB", "keep-sink SQNR dB", "seconds"},
              rows, out);
  *out += "</section>\n";
}

}  // namespace sinkscope::analysis::html_internal
