// svg_bar_chart.cc: grouped bars with a legend, capped "exact" bars and count markers.
#include "report/svg_bar_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "report/svg_canvas.h"
#include "report/svg_color.h"
#include "report/svg_scale.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

std::string BarChart(const BarChartSpec& spec) {
  const size_t ns = std::max<size_t>(1, spec.series.size());
  const size_t ng = spec.groups.size();
  Svg svg(spec.kind, spec.title);
  if (ng == 0) return "";

  std::vector<double> finite;
  bool any_inf = false;
  bool any_marker = false;
  for (const BarGroup& g : spec.groups) {
    any_marker |= g.marker_count > 0;
    for (double v : g.values) {
      if (std::isfinite(v)) finite.push_back(v);
      if (std::isinf(v) && v > 0) any_inf = true;
    }
  }
  if (any_inf && !finite.empty()) {
    // Head room so that a capped "exact" bar stands above every measured one.
    const double top = *std::max_element(finite.begin(), finite.end());
    if (spec.log_y) {
      if (top > 0) finite.push_back(top * 10.0);
    } else {
      const double bottom = std::min(0.0, *std::min_element(finite.begin(), finite.end()));
      finite.push_back(top + 0.2 * std::max(top - bottom, 1.0));
    }
  }
  Scale y = spec.log_y ? Scale::Log(finite) : Scale::Linear(finite, /*include_zero=*/true);

  // Layout.
  const double plot_w = std::clamp(static_cast<double>(ng) * (ns * 16.0 + 12.0), 300.0, 1040.0);
  const double group_w = plot_w / static_cast<double>(ng);
  const double bar_w = std::min(group_w * 0.8 / static_cast<double>(ns), 30.0);
  const double bars_w = bar_w * static_cast<double>(ns);  // centred in each group
  std::vector<std::string> labels;
  double max_label_w = 0.0;
  for (const BarGroup& g : spec.groups) {
    labels.push_back(Shorten(g.label, 40));
    max_label_w = std::max(max_label_w, TextWidth(labels.back(), kTickFont));
  }
  const bool rotate = max_label_w > group_w - 4.0;
  constexpr double kAngle = 40.0;
  const double cos_a = std::cos(kAngle * kPi / 180.0);
  const double sin_a = std::sin(kAngle * kPi / 180.0);
  const double label_h = rotate ? max_label_w * sin_a + 16.0 : 18.0;
  // Rotated labels hang to the left of their group: the first one must fit.
  const double first_label_w = labels.empty() ? 0.0 : TextWidth(labels[0], kTickFont);
  const double kLeft =
      std::max(66.0, rotate ? first_label_w * cos_a - group_w / 2 + 12.0 : 66.0);
  constexpr double kRight = 20.0;
  const double width = std::max(kLeft + plot_w + kRight, TextWidth(spec.title, 13.0) + 30.0);

  std::vector<LegendItem> legend;
  for (size_t s = 0; s < spec.series.size(); ++s) {
    legend.push_back({spec.series[s], SeriesColor(s), LegendItem::kSwatch, ""});
  }
  if (any_marker) legend.push_back({spec.marker_legend, kMarkerColor, LegendItem::kTriangle, ""});
  if (any_inf) legend.push_back({"faded bar: exact (+∞ dB)", "#cccccc", LegendItem::kSwatch, ""});
  const double legend_y = 26.0;
  const double legend_x = 16.0;
  const double legend_h = Legend(nullptr, legend, legend_x, legend_y, width - legend_x - 8.0);
  const double marker_h = any_marker ? 22.0 : 0.0;
  Frame f{kLeft, legend_y + legend_h + marker_h + 8.0, plot_w, 230.0};
  const double height = f.bottom() + label_h + 30.0;
  svg.SetSize(width, height);
  y.Pixels(f.bottom(), f.y);

  svg.Text(10, 17, spec.title, "start", "t");
  Legend(&svg, legend, legend_x, legend_y, width - legend_x - 8.0);
  DrawYAxis(&svg, y, f, spec.y_label);
  const double base = spec.log_y ? f.bottom() : y(0.0);

  for (size_t gi = 0; gi < ng; ++gi) {
    const BarGroup& g = spec.groups[gi];
    const double gx = f.x + group_w * static_cast<double>(gi);
    const double center = gx + group_w / 2;
    for (size_t s = 0; s < g.values.size() && s < ns; ++s) {
      const double v = g.values[s];
      const bool capped = std::isinf(v) && v > 0;
      if (std::isnan(v) || (std::isinf(v) && v < 0) || (spec.log_y && v <= 0)) continue;
      const double top = capped ? f.y : y(v);
      const double bx = center - bars_w / 2 + bar_w * static_cast<double>(s);
      const std::string tip =
          absl::StrCat(g.label, " / ", s < spec.series.size() ? spec.series[s] : "", ": ",
                       capped ? "exact (+∞)" : Num(v));
      svg.Rect(bx, std::min(top, base), bar_w, std::max(1.0, std::abs(base - top)),
               SeriesColor(s), tip, capped ? " fill-opacity=\"0.45\"" : "");
      if (capped) svg.Text(bx + bar_w / 2 + 3.5, f.y + 4, "exact", "end", "h", -90.0);
    }
    if (g.marker_count > 0) {
      const double my = f.y - marker_h / 2 - 4;
      svg.Triangle(center - 5, my, 10, kMarkerColor);
      svg.Text(center + 1, my + 4, absl::StrCat(g.marker_count), "start", "s");
    }
    if (rotate) {
      svg.Text(center + 3, f.bottom() + 12, labels[gi], "end", "k", -kAngle);
    } else {
      svg.Text(center, f.bottom() + 14, labels[gi], "middle", "k");
    }
  }
  svg.Line(f.x, base, f.right(), base, "#555");
  svg.Text(f.x + f.w / 2, height - 8, spec.x_label, "middle", "l");
  return svg.Finish();
}

}  // namespace sinkscope::analysis::svg
