// svg_heatmap.cc: grid pooling, the probability heatmap and the labelled value heatmap.
#include "report/svg_heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/svg_canvas.h"
#include "report/svg_color.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

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

ValueColorScale ValueColorScale::Over(const std::vector<double>& values) {
  double lo = kInf;
  double hi = -kInf;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  ValueColorScale s;
  if (lo <= hi) {
    s.lo = lo;
    s.hi = hi;
  }
  return s;
}

double ValueColorScale::T(double v) const {
  if (std::isnan(v) || v == -kInf) return kNaN;
  if (v == kInf || !(hi > lo)) return 1.0;
  return kLowT + (1.0 - kLowT) * std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
}

std::string ValueColorScale::Color(double v) const { return SequentialColor(T(v)); }

std::string ValueHeatmap(const ValueHeatmapSpec& spec) {
  const size_t rows = spec.row_labels.size();
  const size_t cols = spec.col_labels.size();
  if (rows == 0 || cols == 0) return "";
  Svg svg(spec.kind, spec.title);
  std::vector<double> values(rows * cols, kNaN);
  std::copy_n(spec.values.begin(), std::min(values.size(), spec.values.size()), values.begin());
  const ValueColorScale colors = spec.colors ? *spec.colors : ValueColorScale::Over(values);
  auto text_of = [&](double v) -> std::string {
    if (v == kInf) return spec.infinite_text;
    if (!std::isfinite(v)) return "";
    return spec.format ? spec.format(v) : absl::StrFormat("%.1f", v);
  };

  // Cells are widened to fit their longest value; column labels wider than a cell are rotated
  // and run up and to the right of their column.
  const double font = spec.value_font_px;
  double cell_w = spec.cell_w;
  bool any_finite = false;
  bool any_inf = false;
  bool any_missing = false;
  for (double v : values) {
    cell_w = std::max(cell_w, TextWidth(text_of(v), font) + 6.0);
    any_finite |= std::isfinite(v);
    any_inf |= v == kInf;
    any_missing |= std::isnan(v) || v == -kInf;
  }
  const double cell_h = std::max(spec.cell_h, font + 6.0);
  constexpr size_t kMaxLabelChars = 32;
  std::vector<std::string> row_labels;
  std::vector<std::string> col_labels;
  double row_label_w = 0.0;
  double col_label_w = 0.0;
  for (const std::string& l : spec.row_labels) {
    row_labels.push_back(Shorten(l, kMaxLabelChars));
    row_label_w = std::max(row_label_w, TextWidth(row_labels.back(), kTickFont));
  }
  for (const std::string& l : spec.col_labels) {
    col_labels.push_back(Shorten(l, kMaxLabelChars));
    col_label_w = std::max(col_label_w, TextWidth(col_labels.back(), kTickFont));
  }
  const bool rotate = col_label_w > cell_w - 6.0;
  constexpr double kAngle = 40.0;
  const double cos_a = std::cos(kAngle * kPi / 180.0);
  const double sin_a = std::sin(kAngle * kPi / 180.0);
  const double grid_x = 12.0 + row_label_w + 8.0;
  const double grid_y = 30.0 + (rotate ? col_label_w * sin_a + 12.0 : 14.0);
  const double grid_w = cell_w * static_cast<double>(cols);
  const double grid_h = cell_h * static_cast<double>(rows);
  double right = grid_x + grid_w;
  for (size_t c = 0; rotate && c < cols; ++c) {
    right = std::max(right, grid_x + (static_cast<double>(c) + 0.5) * cell_w +
                                TextWidth(col_labels[c], kTickFont) * cos_a + 4.0);
  }

  svg.Text(10, 17, spec.title, "start", "t");
  for (size_t c = 0; c < cols; ++c) {
    const double cx = grid_x + (static_cast<double>(c) + 0.5) * cell_w;
    if (rotate) {
      svg.Text(cx - 2.0, grid_y - 6.0, col_labels[c], "start", "k", -kAngle);
    } else {
      svg.Text(cx, grid_y - 6.0, col_labels[c], "middle", "k");
    }
  }
  for (size_t r = 0; r < rows; ++r) {
    const double y = grid_y + static_cast<double>(r) * cell_h;
    svg.Text(grid_x - 6.0, y + cell_h / 2 + 3.5, row_labels[r], "end", "k");
    for (size_t c = 0; c < cols; ++c) {
      const double v = values[r * cols + c];
      const double x = grid_x + static_cast<double>(c) * cell_w;
      const std::string fill = colors.Color(v);
      const std::string text = text_of(v);
      svg.Rect(x, y, cell_w, cell_h, fill,
               absl::StrCat(spec.row_labels[r], " / ", spec.col_labels[c], ": ",
                            text.empty() ? "no value" : text),
               " stroke=\"#fff\" stroke-width=\"1\"");
      if (text.empty()) continue;
      svg.Text(x + cell_w / 2, y + cell_h / 2 + 0.35 * font, text, "middle", "v", 0.0,
               absl::StrCat(" style=\"fill:", ReadableTextColor(fill), ";font-size:", Px(font),
                            "px\""));
    }
  }

  // Legend: "<value_label>: lo [colour bar] hi", the +inf swatch, the missing swatch.
  const double ly = grid_y + grid_h + 12.0;
  double lx = 12.0;
  if (!spec.value_label.empty()) {
    const std::string label = absl::StrCat(spec.value_label, ":");
    svg.Text(lx, ly + 9.0, label, "start", "g");
    lx += TextWidth(label, kLegendFont) + 6.0;
  }
  if (any_finite) {
    const std::string lo = text_of(colors.lo);
    svg.Text(lx, ly + 9.0, lo, "start", "k");
    lx += TextWidth(lo, kTickFont) + 4.0;
    constexpr int kSteps = 24;
    constexpr double kStepW = 5.0;
    for (int i = 0; i < kSteps; ++i) {
      const double v = colors.lo + (colors.hi - colors.lo) * (i + 0.5) / kSteps;
      svg.Rect(lx + i * kStepW, ly, kStepW + 0.5, 10.0, colors.Color(v));
    }
    svg.Rect(lx, ly, kSteps * kStepW, 10.0, "none", "", " stroke=\"#888\" stroke-width=\"0.5\"");
    lx += kSteps * kStepW + 4.0;
    const std::string hi = text_of(colors.hi);
    svg.Text(lx, ly + 9.0, hi, "start", "k");
    lx += TextWidth(hi, kTickFont) + 14.0;
  }
  auto swatch = [&](const std::string& fill, const std::string& label) {
    svg.Rect(lx, ly, 14.0, 10.0, fill, "", " stroke=\"#888\" stroke-width=\"0.5\"");
    svg.Text(lx + 18.0, ly + 9.0, label, "start", "g");
    lx += 18.0 + TextWidth(label, kLegendFont) + 14.0;
  };
  if (any_inf) swatch(colors.Color(kInf), absl::StrCat(spec.infinite_text, " (+∞)"));
  if (any_missing) swatch(kMissingColor, "no value");

  const double width = std::max({right, lx, TextWidth(spec.title, 13.0) + 20.0}) + 10.0;
  svg.SetSize(width, ly + 10.0 + 10.0);
  return svg.Finish();
}

}  // namespace sinkscope::analysis::svg
