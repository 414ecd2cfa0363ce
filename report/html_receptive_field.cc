// html_receptive_field.cc: the receptive-field section: influence curves P(d), the fitted
// summary with relative errors, reach against depth, the empirical check and the sweep.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_line_chart.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::Escape;
using svg::LineChart;
using svg::LineChartSpec;
using svg::LineSeries;
using svg::Num;
using svg::Shorten;

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

void AppendReceptiveField(const v1::ReceptiveFieldReport& r, std::string* out) {
  absl::StrAppend(out, "<section><h2>Receptive field", r.pattern().empty() ? "" : ": ",
                  Escape(r.pattern()), "</h2>\n");
  if (r.curves_size() > 0) {
    LineChartSpec spec;
    spec.kind = "receptive-field";
    spec.title = absl::StrCat("Influence P(d) by distance", r.pattern().empty() ? "" : ", ",
                              Shorten(r.pattern(), 40));
    spec.x_label = "distance d (tokens)";
    double lo = kInf;
    double hi = 0.0;
    for (const v1::Curve& c : r.curves()) {
      LineSeries s;
      s.name = c.name().empty() ? "curve" : c.name();
      s.x.assign(c.distance().begin(), c.distance().end());
      s.y.assign(c.value().begin(), c.value().end());
      for (double v : s.y) {
        if (std::isfinite(v) && v > 0) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      spec.series.push_back(std::move(s));
    }
    spec.log_y = lo <= hi && hi > 1000.0 * lo;
    // Influence below 1e-12 of the peak is noise on a log axis: leave it out of the range.
    if (spec.log_y) spec.min_y = hi * 1e-12;
    spec.y_label = spec.log_y ? "influence P(d) (log scale)" : "influence P(d)";
    AppendCharts({LineChart(spec)}, out);
  }
  const std::vector<std::vector<Cell>> rows = {
      {"pattern (S sliding, F full)", r.pattern(), ""},
      {"layers", absl::StrCat(r.layers()), ""},
      {"window (tokens)", absl::StrCat(r.window()), ""},
      {"residual strength alpha", Num(r.alpha()), ""},
      {"context (tokens)", absl::StrCat(r.context()), ""},
      {"mean distance (tokens)", Num(r.mean_distance()), ""},
      {"std of distance (tokens)", Num(r.std_distance()), ""},
      {absl::StrCat("reach at ε = ", Num(r.epsilon()), " (tokens)"),
       absl::StrCat(r.reach_at_epsilon()), ""},
      {"distance holding 99% of the mass (tokens)", absl::StrCat(r.distance_99_mass()), ""},
      {"Gaussian std (tokens)", Num(r.gaussian_std()), Num(r.gaussian_std_rel_error())},
      {"Gaussian range (tokens)", Num(r.gaussian_range()), Num(r.gaussian_range_rel_error())},
      {"exponential range (tokens)", Num(r.exponential_range()),
       Num(r.exponential_range_rel_error())},
  };
  AppendTable({"quantity", "value", "relative error of the fit"}, rows, out);
  if (r.reach_vs_depth_size() > 0) {
    LineChartSpec spec;
    spec.kind = "receptive-field";
    spec.title = absl::StrCat("Reach (eps 0.01) against depth, window ", r.window());
    spec.x_label = "layers L";
    spec.y_label = "reach at eps 0.01 (tokens)";
    for (const v1::Curve& c : r.reach_vs_depth()) {
      LineSeries s;
      s.name = c.name().empty() ? "curve" : c.name();
      s.x.assign(c.distance().begin(), c.distance().end());
      s.y.assign(c.value().begin(), c.value().end());
      spec.series.push_back(std::move(s));
    }
    AppendCharts({LineChart(spec)}, out);
  }
  if (r.has_empirical()) {
    const v1::EmpiricalInfluence& e = r.empirical();
    AppendTable({"measured on attention layers", "value"},
                {{"method", e.method()},
                 {"d_model / heads / seed", absl::StrCat(e.d_model(), " / ", e.heads(), " / ", e.seed())},
                 {"sink tokens", absl::StrCat(e.sink_tokens())},
                 {"fitted alpha (residual-to-attention norm ratio)", Num(e.fitted_alpha())},
                 {"mean distance: measured / theory", absl::StrCat(Num(e.mean_distance()), " / ",
                                                                   Num(e.theory_mean_distance()))},
                 {"reach at eps 0.01: measured / theory",
                  absl::StrCat(e.reach_at_epsilon(), " / ", e.theory_reach_at_epsilon())}},
                out);
  }
  if (r.sweep_size() > 0) {
    std::vector<std::vector<Cell>> sweep;
    for (const v1::SweepPoint& p : r.sweep()) {
      sweep.push_back({absl::StrCat(p.window()), Num(p.alpha()), absl::StrCat(p.layers()),
                       Num(p.gaussian_std_rel_error()), Num(p.gaussian_range_rel_error()),
                       Num(p.exponential_range_rel_error()),
                       p.gaussian_within_10pct() ? "Gaussian" : (p.exponential_within_10pct() ? "exponential" : "neither")});
    }
    AppendTable({"W", "alpha", "L", "Gaussian std rel. error", "Gaussian range rel. error",
                 "exponential range rel. error", "within 10 %"},
                sweep, out);
  }
  *out += "</section>\n";
}

}  // namespace sinkscope::analysis::html_internal
