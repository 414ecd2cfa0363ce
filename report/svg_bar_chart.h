// File: report/svg_bar_chart.h
//
// svg_bar_chart.h: the grouped bar chart of the SVG toolkit: one bar per series in each group,
// a linear (with 0) or log10 y axis, group labels rotated when they do not fit, optional count
// markers above groups. +inf values are drawn up to the top of the axis, faded, labelled
// "exact"; NaN and -inf (and <= 0 on a log axis) draw no bar.
//
// Example:
//   BarChartSpec spec;
//   spec.kind = "quant-error";
//   spec.title = "SQNR per layer";
//   spec.series = {"per-tensor", "per-token"};
//   spec.groups.push_back({"layer 0", {12.0, 30.0}, 0});
//   std::string chart = BarChart(spec);                  // "" without groups
#ifndef SINKSCOPE_REPORT_SVG_BAR_CHART_H_
#define SINKSCOPE_REPORT_SVG_BAR_CHART_H_

#include <cstdint>
#include <string>
#include <vector>

namespace sinkscope::analysis::svg {

struct BarGroup {
  std::string label;
  std::vector<double> values;  // one per series; NaN, -inf (and <= 0 on a log axis): no bar
  int64_t marker_count = 0;    // > 0: a marker above the group with this count
};

struct BarChartSpec {
  std::string kind;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  std::vector<std::string> series;
  std::vector<BarGroup> groups;
  std::string marker_legend;  // legend entry for the markers
};

// The <svg> element; "" when there are no groups.
std::string BarChart(const BarChartSpec& spec);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_BAR_CHART_H_
