// File: report/svg_line_chart.h
//
// svg_line_chart.h: the line chart of the SVG toolkit: series of (x, y) on a tight linear x axis
// and a linear (with 0) or log10 y axis, solid and dashed lines in the series palette, a legend
// when there is more than one series, and annotated points (labels in a strip above the plot).
// Points that cannot be drawn (non-finite, <= 0 on a log axis, below min_y) leave a gap; more
// than 600 points per series are decimated keeping each bucket's minimum and maximum.
//
// Example:
//   LineChartSpec spec;
//   spec.kind = "receptive-field";
//   spec.title = "Influence P(d) by distance";
//   spec.series.push_back({"exact", distances, values});
//   std::string chart = LineChart(spec);
#ifndef SINKSCOPE_REPORT_SVG_LINE_CHART_H_
#define SINKSCOPE_REPORT_SVG_LINE_CHART_H_

#include <limits>
#include <string>
#include <vector>

namespace sinkscope::analysis::svg {

struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

struct Annotation {
  double x = 0.0;
  double y = 0.0;
  std::string text;
};

struct LineChartSpec {
  std::string kind;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  std::vector<LineSeries> series;
  std::vector<Annotation> annotations;  // marked with a circle and a label
  double min_y = -std::numeric_limits<double>::infinity();  // smaller values: a gap
  double plot_w = 480.0;
  double plot_h = 200.0;
};

// The <svg> element (also without series: axes only).
std::string LineChart(const LineChartSpec& spec);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_LINE_CHART_H_
