// File: report/svg_canvas.h
//
// svg_canvas.h: `Svg`, the builder every chart draws on (rects, lines, circles, polylines,
// triangles, text), plus the plot `Frame`, numeric axes and the wrapping legend. Every coordinate
// goes through Px (finite, one decimal), every string through Escape; Finish() wraps the body in
// <svg class="chart" data-chart="KIND"> with a <title> first, which the page's tests rely on.
//
// Example:
//   Svg svg("layer-bars", "Hidden-state magnitude per layer");
//   svg.SetSize(640, 320);
//   svg.Text(10, 17, "title", "start", "t");
//   DrawYAxis(&svg, y, frame, "|h| (log scale)");
//   std::string chart = svg.Finish();
#ifndef SINKSCOPE_REPORT_SVG_CANVAS_H_
#define SINKSCOPE_REPORT_SVG_CANVAS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "report/svg_scale.h"

namespace sinkscope::analysis::svg {

inline constexpr double kTickFont = 10.0;    // px, CSS classes "k" and "s"
inline constexpr double kLegendFont = 11.0;  // px, CSS class "g"

class Svg {
 public:
  // `kind` becomes data-chart="kind"; `title` the <title> child (a tooltip, read by tests).
  Svg(absl::string_view kind, absl::string_view title) : kind_(kind), title_(title) {}

  void SetSize(double width, double height) {
    width_ = width;
    height_ = height;
  }

  // `extra`: raw attributes appended to the element (e.g. " fill-opacity=\"0.45\"").
  void Rect(double x, double y, double w, double h, absl::string_view fill,
            absl::string_view tooltip = "", absl::string_view extra = "");

  void Line(double x1, double y1, double x2, double y2, absl::string_view stroke,
            double stroke_width = 1.0, absl::string_view extra = "");

  void Circle(double cx, double cy, double r, absl::string_view fill, absl::string_view stroke);

  void Polyline(const std::vector<std::pair<double, double>>& points, absl::string_view stroke,
                absl::string_view dash);

  // An upward triangle centred on (cx, cy).
  void Triangle(double cx, double cy, double size, absl::string_view fill);

  // `cls` picks the CSS text style: "t" title, "l" axis label, "k" tick, "s" small, "h" halo,
  // "v" a value in a heatmap cell. `extra`: raw attributes (e.g. an inline style).
  void Text(double x, double y, absl::string_view text, absl::string_view anchor = "start",
            absl::string_view cls = "k", double rotate_deg = 0.0, absl::string_view extra = "");

  // The whole <svg> element, followed by a newline.
  std::string Finish() const;

 private:
  std::string kind_;
  std::string title_;
  double width_ = 100.0;
  double height_ = 100.0;
  std::string body_;
};

// The plot area of a chart.
struct Frame {
  double x = 0.0, y = 0.0, w = 0.0, h = 0.0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

// Y axis on the frame's left edge: gridlines, ticks, tick labels and the rotated label.
void DrawYAxis(Svg* svg, const Scale& y, const Frame& f, absl::string_view label);

// X axis on the frame's bottom edge (numeric): ticks, tick labels and the label.
void DrawXAxis(Svg* svg, const Scale& x, const Frame& f, absl::string_view label);

struct LegendItem {
  std::string label;
  std::string color;
  enum Shape { kSwatch, kLine, kTriangle } shape = kSwatch;
  std::string dash;
};

// Lays the items out left to right from (x, y), wrapping at max_width; draws them when `svg` is
// not null. Returns the height used (0 without items).
double Legend(Svg* svg, const std::vector<LegendItem>& items, double x, double y,
              double max_width);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_CANVAS_H_
