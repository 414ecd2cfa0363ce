// svg_color.cc: the series palette, dash patterns and the sequential Blues scale.
#include "report/svg_color.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_format.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

}  // namespace

const char* SeriesColor(size_t i) { return kPalette[i % kPaletteSize]; }

const char* SeriesDash(size_t i) {
  static constexpr const char* kDash[] = {"", "6 3", "2 2", "8 3 2 3"};
  return kDash[i % 4];
}

std::string SequentialColor(double t) {
  static constexpr int kStops[][3] = {
      {255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  if (!std::isfinite(t)) return kMissingColor;
  const double u = std::clamp(t, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(u));
  const double f = u - i;
  int rgb[3];
  for (int k = 0; k < 3; ++k) {
    rgb[k] = static_cast<int>(std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k])));
  }
  return absl::StrFormat("#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

std::string ReadableTextColor(const std::string& fill) {
  unsigned rgb[3] = {255, 255, 255};
  if (fill.size() == 7 && fill[0] == '#') {
    for (int k = 0; k < 3; ++k) rgb[k] = std::stoul(fill.substr(1 + 2 * k, 2), nullptr, 16);
  }
  const double brightness = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0;
  return brightness < 0.55 ? "#ffffff" : "#111111";
}

double ProbabilityToColorT(double p) {
  if (!std::isfinite(p)) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt(std::clamp(p, 0.0, 1.0));
}

}  // namespace sinkscope::analysis::svg
