// File: report/svg_color.h
//
// svg_color.h: colours of the SVG chart toolkit: the Okabe & Ito series palette (colour-blind
// safe) with dash patterns, and the sequential white -> dark blue scale heatmaps and tables use.
//
// Example:
//   svg.Rect(x, y, w, h, SeriesColor(series_index));
//   svg.Rect(x, y, cell, cell, SequentialColor(ProbabilityToColorT(p)));
#ifndef SINKSCOPE_REPORT_SVG_COLOR_H_
#define SINKSCOPE_REPORT_SVG_COLOR_H_

#include <cstddef>
#include <string>

namespace sinkscope::analysis::svg {

// Vermillion: massive activations, top channels, annotated points.
inline constexpr const char* kMarkerColor = "#D55E00";
// Non-finite heatmap cells.
inline constexpr const char* kMissingColor = "#bdbdbd";

// Okabe & Ito (2008), colour-blind safe; yellow last (weak on white). Wraps after 8 series.
const char* SeriesColor(size_t i);

// Dash patterns: lines differ in shape as well as colour ("" is solid). Wraps after 4.
const char* SeriesDash(size_t i);

// Sequential white -> dark blue (ColorBrewer "Blues" stops) for t in [0, 1] (clamped);
// non-finite t: kMissingColor. "#rrggbb".
std::string SequentialColor(double t);

// A text colour readable on `fill` ("#rrggbb"): "#ffffff" on dark fills, "#111111" on light
// ones (perceived brightness 0.299 R + 0.587 G + 0.114 B below 55 %: dark).
std::string ReadableTextColor(const std::string& fill);

// Probabilities are shown as sqrt(p) so that 1% mass is still a visible tint (10% of the scale);
// NaN stays NaN.
double ProbabilityToColorT(double p);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_COLOR_H_
