// svg_line_chart.cc: lines with gaps, min/max decimation, legend and annotations.
#include "report/svg_line_chart.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "report/svg_canvas.h"
#include "report/svg_color.h"
#include "report/svg_scale.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxLinePoints = 600;  // per series, after min/max decimation

// Drawable points of one series, in order; a NaN pair marks a gap (a point that cannot be drawn,
// e.g. <= 0 on a log axis). More than kMaxLinePoints points: the minimum and maximum of each
// bucket are kept, so spikes survive.
std::vector<std::pair<double, double>> DrawablePoints(const LineSeries& s, bool log_y,
                                                      double min_y) {
  const size_t n = std::min(s.x.size(), s.y.size());
  auto ok = [&](size_t i) {
    return std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0.0) &&
           s.y[i] >= min_y;
  };
  std::vector<std::pair<double, double>> out;
  if (n <= static_cast<size_t>(kMaxLinePoints)) {
    for (size_t i = 0; i < n; ++i) {
      out.emplace_back(ok(i) ? s.x[i] : kNaN, ok(i) ? s.y[i] : kNaN);
    }
    return out;
  }
  const size_t buckets = kMaxLinePoints / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = n * b / buckets;
    const size_t end = n * (b + 1) / buckets;
    size_t lo = end;
    size_t hi = end;
    for (size_t i = begin; i < end; ++i) {
      if (!ok(i)) continue;
      if (lo == end || s.y[i] < s.y[lo]) lo = i;
      if (hi == end || s.y[i] > s.y[hi]) hi = i;
    }
    if (lo == end) continue;
    for (size_t i : {std::min(lo, hi), std::max(lo, hi)}) out.emplace_back(s.x[i], s.y[i]);
  }
  return out;
}

}  // namespace

std::string LineChart(const LineChartSpec& spec) {
  Svg svg(spec.kind, spec.title);
  std::vector<std::vector<std::pair<double, double>>> points;
  std::vector<double> xs;
  std::vector<double> ys;
  for (const LineSeries& s : spec.series) {
    points.push_back(DrawablePoints(s, spec.log_y, spec.min_y));
    for (const auto& [x, y] : points.back()) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  for (const Annotation& a : spec.annotations) ys.push_back(a.y);
  Scale x = Scale::Linear(xs, /*include_zero=*/false, /*tight=*/true);
  Scale y = spec.log_y ? Scale::Log(ys) : Scale::Linear(ys, /*include_zero=*/true);

  constexpr double kLeft = 66.0;
  constexpr double kRight = 24.0;
  std::vector<LegendItem> legend;
  if (spec.series.size() > 1) {
    for (size_t i = 0; i < spec.series.size(); ++i) {
      legend.push_back({spec.series[i].name, SeriesColor(i), LegendItem::kLine, SeriesDash(i)});
    }
  }
  const double legend_y = 26.0;
  const double legend_h = Legend(nullptr, legend, kLeft, legend_y, spec.plot_w);
  const double annotation_room = spec.annotations.empty() ? 0.0 : 36.0;
  Frame f{kLeft, legend_y + legend_h + annotation_room + 8.0, spec.plot_w, spec.plot_h};
  const double width = kLeft + spec.plot_w + kRight;
  const double height = f.bottom() + 42.0;
  svg.SetSize(width, height);
  x.Pixels(f.x, f.right());
  y.Pixels(f.bottom(), f.y);

  svg.Text(10, 17, spec.title, "start", "t");
  Legend(&svg, legend, kLeft, legend_y, spec.plot_w);
  DrawYAxis(&svg, y, f, spec.y_label);
  DrawXAxis(&svg, x, f, spec.x_label);

  for (size_t i = 0; i < points.size(); ++i) {
    std::vector<std::pair<double, double>> run;
    size_t drawable = 0;
    for (const auto& p : points[i]) drawable += !std::isnan(p.first);
    auto flush = [&]() {
      if (run.size() == 1) svg.Circle(run[0].first, run[0].second, 2.0, SeriesColor(i), "none");
      if (run.size() > 1) svg.Polyline(run, SeriesColor(i), SeriesDash(i));
      run.clear();
    };
    for (const auto& [px, py] : points[i]) {
      if (std::isnan(px)) {
        flush();
        continue;
      }
      run.emplace_back(x(px), y(py));
      if (drawable <= 40) svg.Circle(x(px), y(py), 2.2, SeriesColor(i), "none");
    }
    flush();
  }

  // Annotations: a circle on the point, its label in the strip above the plot (first free row
  // of three), a dotted leader line between them.
  constexpr double kRowHeight = 12.0;
  std::vector<std::vector<std::pair<double, double>>> rows_used(3);
  for (const Annotation& a : spec.annotations) {
    if (!std::isfinite(a.x) || !std::isfinite(a.y) || (spec.log_y && a.y <= 0)) continue;
    const double px = x(a.x);
    const double py = y(a.y);
    const double w = TextWidth(a.text, kTickFont) + 8.0;
    const double lx = std::clamp(px, f.x + w / 2 - 30.0, f.right() + kRight - w / 2);
    size_t row = 0;
    auto overlaps = [&](size_t r) {
      for (const auto& [x0, x1] : rows_used[r]) {
        if (lx + w / 2 > x0 && lx - w / 2 < x1) return true;
      }
      return false;
    };
    while (row + 1 < rows_used.size() && overlaps(row)) ++row;
    rows_used[row].emplace_back(lx - w / 2, lx + w / 2);
    const double ly = f.y - 6.0 - kRowHeight * static_cast<double>(row);
    svg.Line(px, py - 4.0, px, ly + 3.0, "#b0b0b0", 0.8, " stroke-dasharray=\"2 2\"");
    svg.Circle(px, py, 4.0, "none", kMarkerColor);
    svg.Text(lx, ly, a.text, "middle", "a");
  }
  return svg.Finish();
}

}  // namespace sinkscope::analysis::svg
