// File: report/svg_heatmap.h
//
// svg_heatmap.h: heatmaps of the SVG toolkit.
//   ProbabilityHeatmap  a grid of probabilities (attention maps: rows = queries, cols = keys) on a
//                       sqrt colour scale with a colour bar and an optional separate "sink"
//                       column; grids larger than 64 x 64 cells are pooled by averaging blocks.
//   ValueHeatmap        a labelled table of values (rows x columns, e.g. SQNR dB per variant and
//                       configuration): colour on a sequential scale over the finite values'
//                       range (`ValueColorScale`), the value printed in each cell in a colour
//                       readable on it, +inf drawn with the top colour and labelled "exact", long
//                       column labels rotated, and a colour legend with the range.
// `Grid` and `PoolGrid` are the row-major grid ProbabilityHeatmap reads.
//
// Example:
//   ValueHeatmapSpec spec;
//   spec.title = "SQNR (dB) by variant and configuration";
//   spec.row_labels = {"vanilla", "softmax1"};
//   spec.col_labels = {"per-tensor kv8 keep0", "per-tensor kv8 keep4"};
//   spec.values = {21.3, 27.9, 30.2, INFINITY};              // row-major; NaN: no value (grey)
//   spec.value_label = "SQNR dB";
//   std::string chart = ValueHeatmap(spec);                  // "" without rows or columns
#ifndef SINKSCOPE_REPORT_SVG_HEATMAP_H_
#define SINKSCOPE_REPORT_SVG_HEATMAP_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sinkscope::analysis::svg {

inline constexpr int kMaxHeatmapCells = 64;  // per side, after pooling

// A row-major grid of doubles (NaN: missing).
struct Grid {
  int rows = 0;
  int cols = 0;
  std::vector<double> v;
  double at(int r, int c) const { return v[static_cast<size_t>(r) * cols + c]; }
};

// Averages blocks of fr x fc cells (edge blocks average what they hold; NaN cells are ignored).
Grid PoolGrid(const Grid& g, int fr, int fc);

struct ProbabilityHeatmapSpec {
  std::string kind = "heatmap";
  std::string heading;         // drawn above the map; " (N×N pooled)" is appended when pooled
  std::string title;           // the chart's <title>
  Grid probs;                  // probabilities in [0, 1]; 0 x 0: "empty or malformed map"
  std::vector<double> sink;    // per row of `probs` (NaN: missing); empty: no sink column
  int positions_per_cell = 1;  // positions of the original map per cell of `probs`
  std::string x_label = "key position";
  std::string y_label = "query position";
};

// The <svg> element: cells (one rect per run of equal colour in a row), first / middle / last
// position ticks, the colour bar with p = 0, 0.05, 0.25, 1.
std::string ProbabilityHeatmap(const ProbabilityHeatmapSpec& spec);

// A value -> colour map for ValueHeatmap: linear from `lo` (the light end, t = kLowT of the
// sequential Blues) to `hi` (the dark end, t = 1); values outside are clamped, +inf takes the
// dark end, NaN and -inf are missing (kMissingColor).
struct ValueColorScale {
  static constexpr double kLowT = 0.08;  // a light tint, apart from white and from missing grey

  // The range of the finite values; [0, 1] without any; lo == hi when all are equal.
  static ValueColorScale Over(const std::vector<double>& values);

  // Position on SequentialColor's scale, in [kLowT, 1]; NaN for NaN and -inf. With lo == hi
  // every finite value maps to 1.
  double T(double v) const;
  std::string Color(double v) const;

  double lo = 0.0;
  double hi = 1.0;
};

struct ValueHeatmapSpec {
  std::string kind = "value-heatmap";
  std::string title;                    // drawn above the grid; also the chart's <title>
  std::vector<std::string> row_labels;  // one per row
  std::vector<std::string> col_labels;  // one per column (rotated when wider than a cell)
  std::vector<double> values;           // row-major; missing entries count as NaN
  // Text of a finite value in its cell, in tooltips and in the legend; default "%.1f".
  std::function<std::string(double)> format;
  std::string infinite_text = "exact";  // the text of +inf (drawn with the top colour)
  std::string value_label;              // what the colour means, in the legend ("SQNR dB")
  std::optional<ValueColorScale> colors;  // default: ValueColorScale::Over(values)
  double cell_w = 52.0;                 // px
  double cell_h = 24.0;
  double value_font_px = 10.5;
};

// The <svg> element; "" without rows or columns.
std::string ValueHeatmap(const ValueHeatmapSpec& spec);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_HEATMAP_H_
