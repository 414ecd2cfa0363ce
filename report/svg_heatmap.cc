// svg_heatmap.cc: grid pooling and the probability heatmap.
#include "report/svg_heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "report/svg_canvas.h"
#include "report/svg_color.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Grid PoolGrid(const Grid& g, int fr, int fc) {
  if (fr <= 1 && fc <= 1) return g;
  Grid out;
  out.rows = (g.rows + fr - 1) / fr;
  out.cols = (g.cols + fc - 1) / fc;
  out.v.assign(static_cast<size_t>(out.rows) * out.cols, kNaN);
  for (int r = 0; r < out.rows; ++r) {
    for (int c = 0; c < out.cols; ++c) {
      double sum = 0.0;
      int n = 0;
      for (int i = r * fr; i < std::min(g.rows, (r + 1) * fr); ++i) {
        for (int j = c * fc; j < std::min(g.cols, (c + 1) * fc); ++j) {
          if (std::isfinite(g.at(i, j))) {
            sum += g.at(i, j);
            ++n;
          }
        }
      }
      if (n > 0) out.v[static_cast<size_t>(r) * out.cols + c] = sum / n;
    }
  }
  return out;
}

std::string ProbabilityHeatmap(const ProbabilityHeatmapSpec& spec) {
  Svg svg(spec.kind, spec.title);
  const Grid& g = spec.probs;
  const int factor =
      std::max(1, (std::max(g.rows, g.cols) + kMaxHeatmapCells - 1) / kMaxHeatmapCells);
  const Grid pooled = PoolGrid(g, factor, factor);
  const bool has_sink = !spec.sink.empty() && pooled.rows > 0;
  Grid sink;
  if (has_sink) {
    sink.rows = g.rows;
    sink.cols = 1;
    sink.v.assign(static_cast<size_t>(g.rows), kNaN);
    for (int r = 0; r < g.rows && r < static_cast<int>(spec.sink.size()); ++r) {
      sink.v[r] = spec.sink[r];
    }
    sink = PoolGrid(sink, factor, 1);
  }
  const int pool = std::max(1, spec.positions_per_cell) * factor;  // original positions per cell

  const double cell = std::clamp(
      std::floor(192.0 / std::max(1, std::max(pooled.rows, pooled.cols))), 3.0, 16.0);
  const double sink_w = std::max(cell, 10.0);
  constexpr double kSinkGap = 6.0;
  const double sink_x = 44.0;
  const double plot_x = sink_x + (has_sink ? sink_w + kSinkGap : 0.0);
  const double plot_y = 40.0;
  const double plot_w = cell * pooled.cols;
  const double plot_h = cell * pooled.rows;
  const double bar_h = std::max(plot_h, 120.0);
  const double bar_x = plot_x + plot_w + 12.0;
  const double width = std::max(bar_x + 44.0, 250.0);
  const double height = plot_y + bar_h + 56.0;
  svg.SetSize(width, height);

  std::string heading = spec.heading;
  if (pool > 1) absl::StrAppend(&heading, " (", pool, "×", pool, " pooled)");
  svg.Text(8, 16, heading, "start", "t");
  if (pooled.rows == 0) {
    svg.Text(plot_x, plot_y + 20, "empty or malformed map", "start", "l");
    return svg.Finish();
  }

  // Cells, one rect per run of equal colour in a row (colours quantised to 1/64 of the scale).
  auto quantised = [](double p) {
    const double t = ProbabilityToColorT(p);
    return std::isfinite(t) ? std::round(t * 64.0) / 64.0 : kNaN;
  };
  for (int r = 0; r < pooled.rows; ++r) {
    int c = 0;
    while (c < pooled.cols) {
      const double t = quantised(pooled.at(r, c));
      int end = c + 1;
      while (end < pooled.cols) {
        const double u = quantised(pooled.at(r, end));
        if (!(u == t || (std::isnan(u) && std::isnan(t)))) break;
        ++end;
      }
      svg.Rect(plot_x + c * cell, plot_y + r * cell, (end - c) * cell, cell, SequentialColor(t));
      c = end;
    }
  }
  svg.Rect(plot_x, plot_y, plot_w, plot_h, "none", "", " stroke=\"#888\" stroke-width=\"0.5\"");
  if (has_sink) {
    for (int r = 0; r < sink.rows; ++r) {
      svg.Rect(sink_x, plot_y + r * cell, sink_w, cell,
               SequentialColor(quantised(sink.at(r, 0))));
    }
    svg.Rect(sink_x, plot_y, sink_w, plot_h, "none", "", " stroke=\"#888\" stroke-width=\"0.5\"");
    svg.Text(sink_x + sink_w / 2, plot_y - 5, "sink", "middle", "s");
  }

  // Axes: first, middle and last cell; positions in the original map.
  auto ticks = [](int n) {
    std::vector<int> t = {0};
    if (n >= 8) t.push_back(n / 2);
    if (n > 1) t.push_back(n - 1);
    return t;
  };
  for (int c : ticks(pooled.cols)) {
    svg.Text(plot_x + (c + 0.5) * cell, plot_y + plot_h + 12, absl::StrCat(c * pool), "middle", "k");
  }
  const double ytick_x = (has_sink ? sink_x : plot_x) - 3.0;
  for (int r : ticks(pooled.rows)) {
    svg.Text(ytick_x, plot_y + (r + 0.5) * cell + 3.5, absl::StrCat(r * pool), "end", "k");
  }
  svg.Text(plot_x + plot_w / 2, plot_y + plot_h + 26, spec.x_label, "middle", "l");
  svg.Text(14, plot_y + plot_h / 2, spec.y_label, "middle", "l", -90.0);

  // Colour bar: sqrt scale, p = 0 at the bottom, 1 at the top.
  constexpr int kSteps = 32;
  for (int i = 0; i < kSteps; ++i) {
    const double t0 = static_cast<double>(i) / kSteps;
    svg.Rect(bar_x, plot_y + bar_h * (1.0 - t0 - 1.0 / kSteps), 8.0, bar_h / kSteps + 0.5,
             SequentialColor(t0 + 0.5 / kSteps));
  }
  svg.Rect(bar_x, plot_y, 8.0, bar_h, "none", "", " stroke=\"#888\" stroke-width=\"0.5\"");
  for (double p : {0.0, 0.05, 0.25, 1.0}) {
    const double py = plot_y + bar_h * (1.0 - std::sqrt(p));
    svg.Line(bar_x + 8, py, bar_x + 11, py, "#555");
    svg.Text(bar_x + 13, py + 3.5, Num(p), "start", "k");
  }
  svg.Text(8, height - 8, "colour: probability p on a sqrt scale (√p)", "start", "s");
  return svg.Finish();
}

}  // namespace sinkscope::analysis::svg
