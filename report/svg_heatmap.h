// File: report/svg_heatmap.h
//
// svg_heatmap.h: heatmaps of the SVG toolkit. `ProbabilityHeatmap` draws a grid of
// probabilities (attention maps: rows = queries, cols = keys) on a sqrt colour scale with a
// colour bar, an optional separate "sink" column, and pools grids larger than 64 x 64 cells by
// averaging blocks. `Grid` and `PoolGrid` are the row-major grid it reads.
//
// Example:
//   ProbabilityHeatmapSpec spec;
//   spec.heading = "layer 0 head 1";
//   spec.title = "layer 0 head 1: attention probabilities";
//   spec.probs = {rows, cols, probs};                      // NaN: missing (grey)
//   std::string chart = ProbabilityHeatmap(spec);
#ifndef SINKSCOPE_REPORT_SVG_HEATMAP_H_
#define SINKSCOPE_REPORT_SVG_HEATMAP_H_

#include <cstddef>
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

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_HEATMAP_H_
