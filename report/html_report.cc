// html_report.cc: RenderHtmlReport. Three chart primitives (grouped bars, lines, heatmap) on a
// small toolkit (escaping, number formatting, scales, axes, legends, colours, an SVG builder),
// then one section per report body.
#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

// Display limits: they keep the page small for checkpoints with thousands of tensors.
constexpr int kMaxHeatmapCells = 64;          // per side, after pooling
constexpr int kMaxQuantErrorTensors = 24;     // worst tensors in the weight SQNR chart
constexpr int kMaxChannelProfiles = 12;       // weight tensors with a channel profile chart
constexpr int kMaxLinePoints = 600;           // per series, after min/max decimation
constexpr int kMaxTableRows = 2000;
constexpr int kMaxMassiveRows = 200;
constexpr int kTopChannelsAnnotated = 3;

// ---------------------------------------------------------------------------------------------
// Text.

// HTML-escapes text for element content and quoted attribute values; control characters other
// than tab and newline become '?'.
std::string Escape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A number for people: %.3g; non-finite values in words (never inside coordinates: see Px).
std::string Num(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "+∞" : "−∞";
  return absl::StrFormat("%.3g", v);
}

// An SQNR for people: +inf means the quantized result equals the reference.
std::string DbText(double v) {
  if (std::isinf(v) && v > 0) return "exact";
  return Num(v);
}

// An SVG coordinate or length: one decimal, non-finite values become 0.
std::string Px(double v) {
  if (!std::isfinite(v)) v = 0.0;
  v = std::clamp(v, -1e6, 1e6);
  std::string s = absl::StrFormat("%.1f", v);
  if (absl::EndsWith(s, ".0")) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Width in pixels of a sans-serif string at `font_px`: an estimate, enough for layout.
double TextWidth(absl::string_view s, double font_px) {
  return 0.6 * font_px * static_cast<double>(Utf8Length(s));
}

// Keeps the start and the end of a long name ("model.layers.1…q_proj.weight"), on UTF-8
// character boundaries.
std::string Shorten(absl::string_view s, size_t max_chars) {
  if (Utf8Length(s) <= max_chars || max_chars < 5) return std::string(s);
  auto byte_offset = [&](size_t chars) {
    size_t seen = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        if (seen == chars) return i;
        ++seen;
      }
    }
    return s.size();
  };
  const size_t total = Utf8Length(s);
  const size_t head = (max_chars - 1) / 2;
  const size_t tail = max_chars - 1 - head;
  return absl::StrCat(s.substr(0, byte_offset(head)), "…", s.substr(byte_offset(total - tail)));
}

// ---------------------------------------------------------------------------------------------
// Colours.

// Okabe & Ito (2008), colour-blind safe; yellow last (weak on white).
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr const char* kMarkerColor = "#D55E00";  // vermillion: massive activations, top channels
constexpr const char* kMissingColor = "#bdbdbd";  // non-finite heatmap cells

const char* SeriesColor(size_t i) { return kPalette[i % kPaletteSize]; }

// Dash patterns: lines differ in shape as well as colour.
const char* SeriesDash(size_t i) {
  static constexpr const char* kDash[] = {"", "6 3", "2 2", "8 3 2 3"};
  return kDash[i % 4];
}

// Sequential white -> dark blue (ColorBrewer "Blues" stops) for t in [0, 1]; non-finite: grey.
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

// Probabilities are shown as sqrt(p) so that 1% mass is still a visible tint (10% of the scale).
double ProbabilityToColorT(double p) {
  if (!std::isfinite(p)) return kNaN;
  return std::sqrt(std::clamp(p, 0.0, 1.0));
}

// ---------------------------------------------------------------------------------------------
// Scales: a data domain mapped onto a pixel range, linear or log10, with tick positions.

class Scale {
 public:
  // Linear: "nice" bounds (multiples of a 1/2/5 step) enclosing the finite values, and 0 when
  // `include_zero`; `tight`: the bounds are the data's own (ticks stay at multiples of the step).
  static Scale Linear(const std::vector<double>& values, bool include_zero, bool tight = false) {
    double lo = kInf;
    double hi = -kInf;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      v = std::clamp(v, -1e300, 1e300);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (include_zero) {
      lo = std::min(lo, 0.0);
      hi = std::max(hi, 0.0);
    }
    if (!(lo <= hi)) {
      lo = 0.0;
      hi = 1.0;
    }
    if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {
      const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
      lo -= pad;
      hi += pad;
    }
    Scale s;
    s.step_ = NiceStep((hi - lo) / 5.0);
    s.lo_ = tight ? lo : std::floor(lo / s.step_) * s.step_;
    s.hi_ = tight ? hi : std::ceil(hi / s.step_) * s.step_;
    if (!(s.hi_ > s.lo_)) s.hi_ = s.lo_ + s.step_;
    return s;
  }

  // Log10: whole decades enclosing the positive finite values ([1, 10] when there are none).
  static Scale Log(const std::vector<double>& values) {
    double lo = kInf;
    double hi = 0.0;
    for (double v : values) {
      if (!std::isfinite(v) || v <= 0.0) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (!(lo <= hi)) {
      lo = 1.0;
      hi = 10.0;
    }
    Scale s;
    s.log_ = true;
    s.lo_exp_ = std::max(-300, static_cast<int>(std::floor(std::log10(lo))));
    s.hi_exp_ = std::min(300, static_cast<int>(std::ceil(std::log10(hi))));
    if (s.hi_exp_ <= s.lo_exp_) s.hi_exp_ = s.lo_exp_ + 1;
    s.lo_ = std::pow(10.0, s.lo_exp_);
    s.hi_ = std::pow(10.0, s.hi_exp_);
    s.step_ = std::max(1, (s.hi_exp_ - s.lo_exp_ + 7) / 8);  // at most ~9 labelled decades
    return s;
  }

  // Where lo_ and hi_ land (for a y axis: px_lo is the bottom).
  Scale& Pixels(double px_lo, double px_hi) {
    px_lo_ = px_lo;
    px_hi_ = px_hi;
    return *this;
  }

  // Pixel position of v, clamped into the range; NaN maps to lo, +-inf to the ends.
  double operator()(double v) const {
    double t;
    if (log_) {
      const double x = (std::isnan(v) || v <= 0.0) ? lo_exp_ : std::log10(v);
      t = (x - lo_exp_) / (hi_exp_ - lo_exp_);
    } else {
      t = std::isnan(v) ? 0.0 : (v - lo_) / (hi_ - lo_);
    }
    if (std::isnan(t)) t = 0.0;
    t = std::clamp(t, 0.0, 1.0);
    return px_lo_ + t * (px_hi_ - px_lo_);
  }

  std::vector<double> Ticks() const {
    std::vector<double> ticks;
    if (log_) {
      for (int e = lo_exp_; e <= hi_exp_; e += static_cast<int>(step_)) {
        ticks.push_back(std::pow(10.0, e));
      }
      return ticks;
    }
    const double first = std::ceil(lo_ / step_ - 1e-9) * step_;
    const int64_t n = static_cast<int64_t>(std::floor((hi_ - first) / step_ + 1e-9));
    for (int64_t i = 0; i <= n && i <= 50; ++i) {
      double t = first + static_cast<double>(i) * step_;
      if (std::abs(t) < step_ * 1e-9) t = 0.0;
      ticks.push_back(t);
    }
    return ticks;
  }

  bool log() const { return log_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }

 private:
  static double NiceStep(double raw) {
    if (!(raw > 0.0) || !std::isfinite(raw)) return 1.0;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * p;
  }

  bool log_ = false;
  double lo_ = 0.0;
  double hi_ = 1.0;
  double step_ = 1.0;
  int lo_exp_ = 0;
  int hi_exp_ = 1;
  double px_lo_ = 0.0;
  double px_hi_ = 1.0;
};

// ---------------------------------------------------------------------------------------------
// SVG builder: every coordinate goes through Px, every string through Escape.

class Svg {
 public:
  Svg(absl::string_view kind, absl::string_view title) : kind_(kind), title_(title) {}

  void SetSize(double width, double height) {
    width_ = width;
    height_ = height;
  }

  void Rect(double x, double y, double w, double h, absl::string_view fill,
            absl::string_view tooltip = "", absl::string_view extra = "") {
    absl::StrAppend(&body_, "<rect x=\"", Px(x), "\" y=\"", Px(y), "\" width=\"",
                    Px(std::max(0.0, w)), "\" height=\"", Px(std::max(0.0, h)), "\" fill=\"",
                    fill, "\"", extra);
    if (tooltip.empty()) {
      body_ += "/>";
    } else {
      absl::StrAppend(&body_, "><title>", Escape(tooltip), "</title></rect>");
    }
  }

  void Line(double x1, double y1, double x2, double y2, absl::string_view stroke,
            double stroke_width = 1.0, absl::string_view extra = "") {
    absl::StrAppend(&body_, "<line x1=\"", Px(x1), "\" y1=\"", Px(y1), "\" x2=\"", Px(x2),
                    "\" y2=\"", Px(y2), "\" stroke=\"", stroke, "\" stroke-width=\"",
                    Px(stroke_width), "\"", extra, "/>");
  }

  void Circle(double cx, double cy, double r, absl::string_view fill, absl::string_view stroke) {
    absl::StrAppend(&body_, "<circle cx=\"", Px(cx), "\" cy=\"", Px(cy), "\" r=\"", Px(r),
                    "\" fill=\"", fill, "\" stroke=\"", stroke, "\"/>");
  }

  void Polyline(const std::vector<std::pair<double, double>>& points, absl::string_view stroke,
                absl::string_view dash) {
    std::string pts;
    for (const auto& [x, y] : points) absl::StrAppend(&pts, pts.empty() ? "" : " ", Px(x), ",", Px(y));
    absl::StrAppend(&body_, "<polyline points=\"", pts, "\" fill=\"none\" stroke=\"", stroke,
                    "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"");
    if (!dash.empty()) absl::StrAppend(&body_, " stroke-dasharray=\"", dash, "\"");
    body_ += "/>";
  }

  // An upward triangle centred on (cx, cy).
  void Triangle(double cx, double cy, double size, absl::string_view fill) {
    const double h = size * 0.9;
    absl::StrAppend(&body_, "<path d=\"M", Px(cx - size / 2), " ", Px(cy + h / 2), " L",
                    Px(cx + size / 2), " ", Px(cy + h / 2), " L", Px(cx), " ", Px(cy - h / 2),
                    " Z\" fill=\"", fill, "\"/>");
  }

  // `cls` picks the CSS text style: "t" title, "l" axis label, "k" tick, "s" small, "h" halo.
  void Text(double x, double y, absl::string_view text, absl::string_view anchor = "start",
            absl::string_view cls = "k", double rotate_deg = 0.0) {
    absl::StrAppend(&body_, "<text x=\"", Px(x), "\" y=\"", Px(y), "\" class=\"", cls, "\"");
    if (anchor != "start") absl::StrAppend(&body_, " text-anchor=\"", anchor, "\"");
    if (rotate_deg != 0.0) {
      absl::StrAppend(&body_, " transform=\"rotate(", Px(rotate_deg), " ", Px(x), " ", Px(y),
                      ")\"");
    }
    absl::StrAppend(&body_, ">", Escape(text), "</text>");
  }

  std::string Finish() const {
    return absl::StrCat("<svg class=\"chart\" data-chart=\"", kind_, "\" role=\"img\" width=\"",
                        Px(width_), "\" height=\"", Px(height_), "\" viewBox=\"0 0 ", Px(width_),
                        " ", Px(height_), "\"><title>", Escape(title_), "</title>", body_,
                        "</svg>\n");
  }

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

constexpr double kTickFont = 10.0;
constexpr double kLegendFont = 11.0;

// Y axis on the frame's left edge: gridlines, ticks, tick labels and the rotated label.
void DrawYAxis(Svg* svg, const Scale& y, const Frame& f, absl::string_view label) {
  for (double t : y.Ticks()) {
    const double py = y(t);
    svg->Line(f.x, py, f.right(), py, "#e6e6e6");
    svg->Line(f.x - 4, py, f.x, py, "#555");
    svg->Text(f.x - 6, py + 3.5, Num(t), "end", "k");
  }
  svg->Line(f.x, f.y, f.x, f.bottom(), "#555");
  svg->Text(f.x - 48, f.y + f.h / 2, label, "middle", "l", -90.0);
}

// X axis on the frame's bottom edge (numeric): ticks, tick labels and the label.
void DrawXAxis(Svg* svg, const Scale& x, const Frame& f, absl::string_view label) {
  svg->Line(f.x, f.bottom(), f.right(), f.bottom(), "#555");
  for (double t : x.Ticks()) {
    const double px = x(t);
    svg->Line(px, f.bottom(), px, f.bottom() + 4, "#555");
    svg->Text(px, f.bottom() + 15, Num(t), "middle", "k");
  }
  svg->Text(f.x + f.w / 2, f.bottom() + 32, label, "middle", "l");
}

struct LegendItem {
  std::string label;
  std::string color;
  enum Shape { kSwatch, kLine, kTriangle } shape = kSwatch;
  std::string dash;
};

// Lays the items out left to right from (x, y), wrapping at max_width; draws them when `svg` is
// not null. Returns the height used (0 without items).
double Legend(Svg* svg, const std::vector<LegendItem>& items, double x, double y,
              double max_width) {
  if (items.empty()) return 0.0;
  constexpr double kRow = 16.0;
  double cx = x;
  double cy = y;
  for (const LegendItem& item : items) {
    const std::string label = Shorten(item.label, 40);
    const double w = 22.0 + TextWidth(label, kLegendFont) + 14.0;
    if (cx > x && cx + w > x + max_width) {
      cx = x;
      cy += kRow;
    }
    if (svg != nullptr) {
      switch (item.shape) {
        case LegendItem::kSwatch: svg->Rect(cx, cy + 2, 14, 10, item.color); break;
        case LegendItem::kLine:
          svg->Line(cx, cy + 7, cx + 18, cy + 7, item.color, 2.0,
                    item.dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", item.dash, "\""));
          break;
        case LegendItem::kTriangle: svg->Triangle(cx + 7, cy + 7, 10, item.color); break;
      }
      svg->Text(cx + 22, cy + 11, label, "start", "g");
    }
    cx += w;
  }
  return cy - y + kRow;
}

// ---------------------------------------------------------------------------------------------
// Grouped bar chart.

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

// +inf values are drawn up to the top of the axis, lighter, labelled "exact".
std::string BarChart(const BarChartSpec& spec) {
  const size_t ns = std::max<size_t>(1, spec.series.size());
  const size_t ng = spec.groups.size();
  Svg svg(spec.kind, spec.title);
  if (ng == 0) return "";

  std::vector<double> finite;
  bool any_inf = false;
  bool any_marker = false;
  for (const BarGroup& g : spec.groups) {
    any_marker |= g.marker_count > 0;
    for (double v : g.values) {
      if (std::isfinite(v)) finite.push_back(v);
      if (std::isinf(v) && v > 0) any_inf = true;
    }
  }
  if (any_inf && !finite.empty()) {
    // Head room so that a capped "exact" bar stands above every measured one.
    const double top = *std::max_element(finite.begin(), finite.end());
    if (spec.log_y) {
      if (top > 0) finite.push_back(top * 10.0);
    } else {
      const double bottom = std::min(0.0, *std::min_element(finite.begin(), finite.end()));
      finite.push_back(top + 0.2 * std::max(top - bottom, 1.0));
    }
  }
  Scale y = spec.log_y ? Scale::Log(finite) : Scale::Linear(finite, /*include_zero=*/true);

  // Layout.
  const double plot_w = std::clamp(static_cast<double>(ng) * (ns * 16.0 + 12.0), 300.0, 1040.0);
  const double group_w = plot_w / static_cast<double>(ng);
  const double bar_w = std::min(group_w * 0.8 / static_cast<double>(ns), 30.0);
  const double bars_w = bar_w * static_cast<double>(ns);  // centred in each group
  std::vector<std::string> labels;
  double max_label_w = 0.0;
  for (const BarGroup& g : spec.groups) {
    labels.push_back(Shorten(g.label, 40));
    max_label_w = std::max(max_label_w, TextWidth(labels.back(), kTickFont));
  }
  const bool rotate = max_label_w > group_w - 4.0;
  constexpr double kAngle = 40.0;
  const double cos_a = std::cos(kAngle * kPi / 180.0);
  const double sin_a = std::sin(kAngle * kPi / 180.0);
  const double label_h = rotate ? max_label_w * sin_a + 16.0 : 18.0;
  // Rotated labels hang to the left of their group: the first one must fit.
  const double first_label_w = labels.empty() ? 0.0 : TextWidth(labels[0], kTickFont);
  const double kLeft =
      std::max(66.0, rotate ? first_label_w * cos_a - group_w / 2 + 12.0 : 66.0);
  constexpr double kRight = 20.0;
  const double width = std::max(kLeft + plot_w + kRight, TextWidth(spec.title, 13.0) + 30.0);

  std::vector<LegendItem> legend;
  for (size_t s = 0; s < spec.series.size(); ++s) {
    legend.push_back({spec.series[s], SeriesColor(s), LegendItem::kSwatch, ""});
  }
  if (any_marker) legend.push_back({spec.marker_legend, kMarkerColor, LegendItem::kTriangle, ""});
  if (any_inf) legend.push_back({"faded bar: exact (+∞ dB)", "#cccccc", LegendItem::kSwatch, ""});
  const double legend_y = 26.0;
  const double legend_x = 16.0;
  const double legend_h = Legend(nullptr, legend, legend_x, legend_y, width - legend_x - 8.0);
  const double marker_h = any_marker ? 22.0 : 0.0;
  Frame f{kLeft, legend_y + legend_h + marker_h + 8.0, plot_w, 230.0};
  const double height = f.bottom() + label_h + 30.0;
  svg.SetSize(width, height);
  y.Pixels(f.bottom(), f.y);

  svg.Text(10, 17, spec.title, "start", "t");
  Legend(&svg, legend, legend_x, legend_y, width - legend_x - 8.0);
  DrawYAxis(&svg, y, f, spec.y_label);
  const double base = spec.log_y ? f.bottom() : y(0.0);

  for (size_t gi = 0; gi < ng; ++gi) {
    const BarGroup& g = spec.groups[gi];
    const double gx = f.x + group_w * static_cast<double>(gi);
    const double center = gx + group_w / 2;
    for (size_t s = 0; s < g.values.size() && s < ns; ++s) {
      const double v = g.values[s];
      const bool capped = std::isinf(v) && v > 0;
      if (std::isnan(v) || (std::isinf(v) && v < 0) || (spec.log_y && v <= 0)) continue;
      const double top = capped ? f.y : y(v);
      const double bx = center - bars_w / 2 + bar_w * static_cast<double>(s);
      const std::string tip =
          absl::StrCat(g.label, " / ", s < spec.series.size() ? spec.series[s] : "", ": ",
                       capped ? "exact (+∞)" : Num(v));
      svg.Rect(bx, std::min(top, base), bar_w, std::max(1.0, std::abs(base - top)),
               SeriesColor(s), tip, capped ? " fill-opacity=\"0.45\"" : "");
      if (capped) svg.Text(bx + bar_w / 2 + 3.5, f.y + 4, "exact", "end", "h", -90.0);
    }
    if (g.marker_count > 0) {
      const double my = f.y - marker_h / 2 - 4;
      svg.Triangle(center - 5, my, 10, kMarkerColor);
      svg.Text(center + 1, my + 4, absl::StrCat(g.marker_count), "start", "s");
    }
    if (rotate) {
      svg.Text(center + 3, f.bottom() + 12, labels[gi], "end", "k", -kAngle);
    } else {
      svg.Text(center, f.bottom() + 14, labels[gi], "middle", "k");
    }
  }
  svg.Line(f.x, base, f.right(), base, "#555");
  svg.Text(f.x + f.w / 2, height - 8, spec.x_label, "middle", "l");
  return svg.Finish();
}

// ---------------------------------------------------------------------------------------------
// Line chart.

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
  double min_y = -kInf;                 // smaller values are not drawn (a gap)
  double plot_w = 480.0;
  double plot_h = 200.0;
};

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

// ---------------------------------------------------------------------------------------------
// Attention heatmap.

// A row-major grid of doubles (NaN: missing).
struct Grid {
  int rows = 0;
  int cols = 0;
  std::vector<double> v;
  double at(int r, int c) const { return v[static_cast<size_t>(r) * cols + c]; }
};

// Averages blocks of fr x fc cells (edge blocks average what they hold; NaN cells are ignored).
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

std::string Heatmap(const v1::AttentionMap& map) {
  const int rows = std::max(0, map.rows());
  const int cols = std::max(0, map.cols());
  const std::string title = absl::StrCat("layer ", map.layer(), " head ", map.head());
  Svg svg("heatmap", absl::StrCat(title, ": attention probabilities, rows = queries, cols = keys"));
  Grid g;
  g.rows = rows;
  g.cols = cols;
  if (rows > 0 && cols > 0 && static_cast<int64_t>(rows) * cols <= (int64_t{1} << 28)) {
    g.v.assign(static_cast<size_t>(rows) * cols, kNaN);
    const size_t n = std::min(g.v.size(), static_cast<size_t>(map.probs_size()));
    for (size_t i = 0; i < n; ++i) g.v[i] = map.probs(static_cast<int>(i));
  } else {
    g.rows = g.cols = 0;
  }
  const int factor =
      std::max(1, (std::max(g.rows, g.cols) + kMaxHeatmapCells - 1) / kMaxHeatmapCells);
  const Grid pooled = PoolGrid(g, factor, factor);
  const bool has_sink = map.sink_slot_mass_size() > 0 && pooled.rows > 0;
  Grid sink;
  if (has_sink) {
    sink.rows = g.rows;
    sink.cols = 1;
    sink.v.assign(static_cast<size_t>(g.rows), kNaN);
    for (int r = 0; r < g.rows && r < map.sink_slot_mass_size(); ++r) sink.v[r] = map.sink_slot_mass(r);
    sink = PoolGrid(sink, factor, 1);
  }
  const int pool = std::max(1, map.pool()) * factor;  // original positions per cell

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

  std::string heading = title;
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
  svg.Text(plot_x + plot_w / 2, plot_y + plot_h + 26, "key position", "middle", "l");
  svg.Text(14, plot_y + plot_h / 2, "query position", "middle", "l", -90.0);

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

// ---------------------------------------------------------------------------------------------
// HTML pieces.

struct Cell {
  Cell(std::string t) : text(std::move(t)) {}             // NOLINT: implicit by design
  Cell(const char* t) : text(t) {}                        // NOLINT
  Cell(std::string t, std::string s) : text(std::move(t)), style(std::move(s)) {}
  std::string text;   // plain text, escaped when written
  std::string style;  // inline CSS, from this file only
};

void AppendTable(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows,
                 std::string* out, absl::string_view cls = "") {
  if (rows.empty()) return;
  absl::StrAppend(out, "<div class=\"scroll\"><table", cls.empty() ? "" : " class=\"", cls,
                  cls.empty() ? "" : "\"", "><thead><tr>");
  for (const std::string& h : header) absl::StrAppend(out, "<th>", Escape(h), "</th>");
  *out += "</tr></thead><tbody>\n";
  for (const std::vector<Cell>& row : rows) {
    *out += "<tr>";
    for (const Cell& c : row) {
      *out += "<td";
      if (!c.style.empty()) absl::StrAppend(out, " style=\"", c.style, "\"");
      absl::StrAppend(out, ">", Escape(c.text), "</td>");
    }
    *out += "</tr>\n";
  }
  *out += "</tbody></table></div>\n";
}

// A two-column (field, value) table.
void AppendFields(const std::vector<std::pair<std::string, std::string>>& fields,
                  std::string* out) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& [k, v] : fields) {
    if (!v.empty()) rows.push_back({Cell(k), Cell(v)});
  }
  AppendTable({"field", "value"}, rows, out, "fields");
}

void AppendNote(absl::string_view text, std::string* out) {
  absl::StrAppend(out, "<p class=\"note\">", Escape(text), "</p>\n");
}

void AppendCharts(const std::vector<std::string>& charts, std::string* out) {
  std::string joined;
  for (const std::string& c : charts) {
    if (!c.empty()) absl::StrAppend(&joined, "<div class=\"fig\">", c, "</div>\n");
  }
  if (!joined.empty()) absl::StrAppend(out, "<div class=\"charts\">\n", joined, "</div>\n");
}

std::string ShapeText(const v1::TensorReport& t) {
  if (t.shape_size() == 0) return "";
  return absl::StrJoin(t.shape(), "×");
}

// ---------------------------------------------------------------------------------------------
// Report-specific charts.

std::string ErrorSeriesName(const v1::QuantError& e) {
  if (!e.name().empty()) return e.name();
  if (!e.scheme().description().empty()) return e.scheme().description();
  return !e.path().empty() ? e.path() : "error";
}

struct LabelledValue {
  std::string group;
  std::string series;
  double value;
};

// Grouped SQNR bars: groups and series in first-seen order.
std::string QuantErrorChart(absl::string_view title, absl::string_view x_label,
                            const std::vector<LabelledValue>& values) {
  BarChartSpec spec;
  spec.kind = "quant-error";
  spec.title = std::string(title);
  spec.x_label = std::string(x_label);
  spec.y_label = "SQNR (dB, higher is better)";
  std::map<std::string, size_t> series_index;
  std::map<std::string, size_t> group_index;
  for (const LabelledValue& v : values) {
    if (series_index.emplace(v.series, spec.series.size()).second) spec.series.push_back(v.series);
    if (group_index.emplace(v.group, spec.groups.size()).second) {
      spec.groups.push_back({v.group, {}, 0});
    }
  }
  for (BarGroup& g : spec.groups) g.values.assign(spec.series.size(), kNaN);
  for (const LabelledValue& v : values) {
    spec.groups[group_index[v.group]].values[series_index[v.series]] = v.value;
  }
  return BarChart(spec);
}

std::string ChannelProfileChart(absl::string_view title, const v1::OutlierProfile& profile) {
  if (profile.channel_abs_max_size() == 0) return "";
  LineChartSpec spec;
  spec.kind = "channel-profile";
  spec.title = std::string(title);
  spec.x_label = "channel";
  spec.y_label = "abs-max |x| (log scale)";
  spec.log_y = true;
  LineSeries s;
  s.name = "abs-max";
  for (int i = 0; i < profile.channel_abs_max_size(); ++i) {
    s.x.push_back(i);
    s.y.push_back(profile.channel_abs_max(i));
  }
  std::vector<std::pair<int64_t, double>> top;
  for (const v1::IndexProfile& p : profile.top_channels()) top.emplace_back(p.index(), p.abs_max());
  if (top.empty()) {
    std::vector<int> order(s.y.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    auto key = [&](int i) { return std::isfinite(s.y[i]) ? s.y[i] : -kInf; };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) > key(b); });
    for (int i : order) top.emplace_back(i, s.y[i]);
  }
  for (size_t i = 0; i < top.size() && i < static_cast<size_t>(kTopChannelsAnnotated); ++i) {
    spec.annotations.push_back({static_cast<double>(top[i].first), top[i].second,
                                absl::StrCat("ch ", top[i].first, ": ", Num(top[i].second))});
  }
  spec.series.push_back(std::move(s));
  return LineChart(spec);
}

double LayerMedian(const v1::LayerReport& l) {
  return l.median_abs() != 0.0 ? l.median_abs() : l.hidden().median_abs();
}

std::string LayerBarsChart(const v1::ActivationReport& a) {
  BarChartSpec spec;
  spec.kind = "layer-bars";
  spec.title = "Hidden-state magnitude per layer";
  spec.x_label = "layer";
  spec.y_label = "|activation| (log scale)";
  spec.log_y = true;
  spec.series = {"abs-max |h|", "median |h|"};
  spec.marker_legend = "layer with massive activations (count)";
  for (const v1::LayerReport& l : a.layers()) {
    spec.groups.push_back(
        {absl::StrCat(l.layer()), {l.hidden().abs_max(), LayerMedian(l)}, l.massive_size()});
  }
  return BarChart(spec);
}

// A layers x heads grid of one HeadSink field, coloured on the linear Blues scale in [0, 1].
// With `mark_sinks`, sink heads (is_sink) get a "*".
void AppendHeadGrid(const v1::ActivationReport& a, double (*field)(const v1::HeadSink&),
                    bool mark_sinks, std::string* out) {
  int max_head = -1;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::HeadSink& h : l.heads()) max_head = std::max(max_head, h.head());
  }
  if (max_head < 0 || max_head > 1024) return;
  std::vector<std::string> header = {"layer \\ head"};
  for (int h = 0; h <= max_head; ++h) header.push_back(absl::StrCat(h));
  std::vector<std::vector<Cell>> rows;
  for (const v1::LayerReport& l : a.layers()) {
    if (l.heads_size() == 0) continue;
    std::vector<Cell> row(static_cast<size_t>(max_head) + 2, Cell(""));
    row[0] = Cell(absl::StrCat(l.layer()));
    for (const v1::HeadSink& h : l.heads()) {
      if (h.head() < 0) continue;
      const double v = field(h);
      const double t = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : kNaN;
      row[static_cast<size_t>(h.head()) + 1] =
          Cell(absl::StrCat(Num(v), mark_sinks && h.is_sink() ? "*" : ""),
               absl::StrCat("background:", SequentialColor(t), t > 0.55 ? ";color:#fff" : ""));
    }
    rows.push_back(std::move(row));
  }
  AppendTable(header, rows, out, "grid");
}

// ---------------------------------------------------------------------------------------------
// Sections.

void AppendSummaryTable(const v1::Summary& s, std::string* out) {
  AppendFields(
      {{"count", absl::StrCat(s.count())},
       {"mean", Num(s.mean())},
       {"std", Num(s.std())},
       {"min / max", absl::StrCat(Num(s.min()), " / ", Num(s.max()))},
       {"abs-max", Num(s.abs_max())},
       {"median |x|", Num(s.median_abs())},
       {"p99 / p99.9 / p99.99 |x|",
        absl::StrCat(Num(s.p99_abs()), " / ", Num(s.p999_abs()), " / ", Num(s.p9999_abs()))},
       {"abs-max / median", Num(s.abs_max_over_median())},
       {"skewness", Num(s.skewness())},
       {"kurtosis (normal: 3)", Num(s.kurtosis())},
       {absl::StrCat("|x - mean| > ", Num(s.k_sigma()), " std"),
        absl::StrCat(s.count_above_k_sigma())},
       {absl::StrCat("|x| >= ", Num(s.llm_int8_threshold()), " (LLM.int8)"),
        absl::StrCat(s.llm_int8_count())},
       {"non-finite", absl::StrCat(s.nonfinite_count())}},
      out);
}

void AppendProvenance(const v1::Report& report, std::string* out) {
  *out += "<section><h2>Provenance</h2>\n";
  if (!report.has_provenance()) {
    AppendNote("No provenance recorded.", out);
    *out += "</section>\n";
    return;
  }
  const v1::Provenance& p = report.provenance();
  std::vector<std::string> config;
  for (const auto& [k, v] : p.config()) config.push_back(absl::StrCat(k, "=", v));
  std::sort(config.begin(), config.end());
  AppendFields({{"tool", p.tool()},
                {"version", p.version()},
                {"time", p.time()},
                {"CPU ISA", p.cpu_isa()},
                {"oneDNN version", p.onednn_version()},
                {"int8 GEMM implementation", p.int8_gemm_impl()},
                {"int8 mitigation", p.int8_mitigation()},
                {"command line", absl::StrJoin(p.command_line(), " ")},
                {"git commit", p.git_commit()},
                {"configuration", absl::StrJoin(config, "  ")}},
               out);
  *out += "</section>\n";
}

void AppendWeightReport(const v1::WeightReport& w, std::string* out) {
  *out += "<section><h2>Weights</h2>\n";
  AppendFields({{"checkpoint", w.checkpoint()},
                {"shard", w.shard()},
                {"tensors scanned", absl::StrCat(w.tensors_size())},
                {"tensors in checkpoint",
                 w.tensors_in_checkpoint() > 0 ? absl::StrCat(w.tensors_in_checkpoint()) : ""}},
               out);

  // SQNR of the worst tensors (lowest SQNR first; NaN counts as worst).
  std::vector<int> with_errors;
  for (int i = 0; i < w.tensors_size(); ++i) {
    if (w.tensors(i).quant_errors_size() > 0) with_errors.push_back(i);
  }
  auto worst = [&](int i) {
    double m = kInf;
    for (const v1::QuantError& e : w.tensors(i).quant_errors()) {
      m = std::min(m, std::isnan(e.sqnr_db()) ? -kInf : e.sqnr_db());
    }
    return m;
  };
  std::stable_sort(with_errors.begin(), with_errors.end(),
                   [&](int a, int b) { return worst(a) < worst(b); });
  if (!with_errors.empty()) {
    *out += "<h3>Quantization error</h3>\n";
    if (with_errors.size() > static_cast<size_t>(kMaxQuantErrorTensors)) {
      AppendNote(absl::StrCat("The ", kMaxQuantErrorTensors, " tensors with the lowest SQNR of ",
                              with_errors.size(), "."),
                 out);
      with_errors.resize(kMaxQuantErrorTensors);
    }
    std::vector<LabelledValue> values;
    for (int i : with_errors) {
      for (const v1::QuantError& e : w.tensors(i).quant_errors()) {
        values.push_back({w.tensors(i).name(), ErrorSeriesName(e), e.sqnr_db()});
      }
    }
    AppendCharts({QuantErrorChart("Weight quantization SQNR per tensor", "tensor", values)}, out);
  }

  // Channel profiles of the most outlier-heavy tensors.
  std::vector<int> profiled;
  for (int i = 0; i < w.tensors_size(); ++i) {
    if (w.tensors(i).outliers().channel_abs_max_size() > 0) profiled.push_back(i);
  }
  auto ratio = [&](int i) {
    const double r = w.tensors(i).summary().abs_max_over_median();
    return std::isfinite(r) ? r : -1.0;
  };
  std::stable_sort(profiled.begin(), profiled.end(),
                   [&](int a, int b) { return ratio(a) > ratio(b); });
  if (!profiled.empty()) {
    *out += "<h3>Per-channel magnitude</h3>\n";
    if (profiled.size() > static_cast<size_t>(kMaxChannelProfiles)) {
      AppendNote(absl::StrCat("The ", kMaxChannelProfiles,
                              " tensors with the largest abs-max / median of ", profiled.size(),
                              "."),
                 out);
      profiled.resize(kMaxChannelProfiles);
    }
    std::vector<std::string> charts;
    for (int i : profiled) {
      charts.push_back(ChannelProfileChart(Shorten(w.tensors(i).name(), 60), w.tensors(i).outliers()));
    }
    AppendCharts(charts, out);
  }

  // Tensor table: one SQNR column per error name.
  std::vector<std::string> error_names;
  for (const v1::TensorReport& t : w.tensors()) {
    for (const v1::QuantError& e : t.quant_errors()) {
      const std::string n = ErrorSeriesName(e);
      if (std::find(error_names.begin(), error_names.end(), n) == error_names.end()) {
        error_names.push_back(n);
      }
    }
  }
  std::vector<std::string> header = {"tensor", "shape", "dtype", "abs-max", "median |x|",
                                     "abs-max / median", "kurtosis"};
  for (const std::string& n : error_names) header.push_back(absl::StrCat("SQNR dB: ", n));
  std::vector<std::vector<Cell>> rows;
  for (const v1::TensorReport& t : w.tensors()) {
    if (rows.size() >= static_cast<size_t>(kMaxTableRows)) break;
    const v1::Summary& s = t.summary();
    std::vector<Cell> row = {t.name(),          ShapeText(t),        t.dtype(),
                             Num(s.abs_max()),  Num(s.median_abs()), Num(s.abs_max_over_median()),
                             Num(s.kurtosis())};
    for (const std::string& n : error_names) {
      std::string v;
      for (const v1::QuantError& e : t.quant_errors()) {
        if (ErrorSeriesName(e) == n) v = DbText(e.sqnr_db());
      }
      row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) {
    *out += "<h3>Tensors</h3>\n";
    if (w.tensors_size() > kMaxTableRows) {
      AppendNote(absl::StrCat("First ", kMaxTableRows, " of ", w.tensors_size(), " tensors."), out);
    }
    AppendTable(header, rows, out);
  }
  if (w.has_total()) {
    *out += "<h3>All scanned tensors merged</h3>\n";
    AppendSummaryTable(w.total(), out);
  }
  *out += "</section>\n";
}

void AppendActivationReport(const v1::ActivationReport& a, std::string* out) {
  absl::StrAppend(out, "<section><h2>Activations", a.model().empty() ? "" : ": ",
                  Escape(a.model()), "</h2>\n");
  AppendFields(
      {{"model", a.model()},
       {"layers", absl::StrCat(a.num_layers())},
       {"tokens", absl::StrCat(a.num_tokens())},
       {"sequences", a.num_sequences() > 0 ? absl::StrCat(a.num_sequences()) : ""},
       {"sink rate Sink_1^ε (% of layer-heads)",
        absl::StrCat(Num(a.sink_rate()), " % (ε = ", Num(a.sink_epsilon()), ")")},
       {"massive activation thresholds",
        absl::StrCat("|x| > ", Num(a.abs_threshold()), " and |x| ≥ ", Num(a.ratio_threshold()),
                     " × median |h|")}},
      out);
  if (a.layers_size() == 0) {
    AppendNote("No layers recorded.", out);
    *out += "</section>\n";
    return;
  }

  *out += "<h3>Hidden-state magnitude</h3>\n";
  AppendCharts({LayerBarsChart(a)}, out);

  std::vector<std::string> heatmaps;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::AttentionMap& m : l.attention()) heatmaps.push_back(Heatmap(m));
  }
  if (!heatmaps.empty()) {
    *out += "<h3>Attention probabilities</h3>\n";
    AppendNote(
        "Rows are queries, columns keys; colour is sqrt(p) so that small probabilities stay "
        "visible. Column 0 is the first token (the usual sink); the separate \"sink\" column, "
        "when present, is the mass taken by a sink logit or KV-bias slot.",
        out);
    AppendCharts(heatmaps, out);
  }

  std::vector<std::string> profiles;
  for (const v1::LayerReport& l : a.layers()) {
    profiles.push_back(
        ChannelProfileChart(absl::StrCat("layer ", l.layer(), " hidden state"), l.hidden_outliers()));
  }
  if (std::any_of(profiles.begin(), profiles.end(), [](const std::string& s) { return !s.empty(); })) {
    *out += "<h3>Per-channel magnitude of the hidden state</h3>\n";
    AppendCharts(profiles, out);
  }

  std::vector<LabelledValue> errors;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::QuantError& e : l.quant_errors()) {
      errors.push_back({absl::StrCat("layer ", l.layer()), ErrorSeriesName(e), e.sqnr_db()});
    }
  }
  if (!errors.empty()) {
    *out += "<h3>Quantization error per layer</h3>\n";
    AppendCharts({QuantErrorChart("Quantization SQNR per layer", "layer", errors)}, out);
  }

  *out += "<h3>Layers</h3>\n";
  std::vector<std::vector<Cell>> layer_rows;
  for (const v1::LayerReport& l : a.layers()) {
    int sinks = 0;
    for (const v1::HeadSink& h : l.heads()) sinks += h.is_sink();
    layer_rows.push_back({absl::StrCat(l.layer()), Num(l.hidden().abs_max()), Num(LayerMedian(l)),
                          Num(l.hidden().abs_max_over_median()), Num(l.hidden().kurtosis()),
                          absl::StrCat(l.massive_size()),
                          absl::StrCat(sinks, " / ", l.heads_size())});
  }
  AppendTable({"layer", "abs-max |h|", "median |h|", "abs-max / median", "kurtosis",
               "massive activations", "sink heads"},
              layer_rows, out);

  bool any_heads = false;
  bool any_slot = false;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::HeadSink& h : l.heads()) {
      any_heads = true;
      any_slot |= h.sink_slot_mass() != 0.0;
    }
  }
  if (any_heads) {
    *out += "<h3>First-token attention mass per head</h3>\n";
    AppendNote("alpha_1: mean over queries of the probability on key 0; * marks a sink head.", out);
    AppendHeadGrid(
        a, [](const v1::HeadSink& h) { return h.first_token_mass(); }, /*mark_sinks=*/true, out);
  }
  if (any_slot) {
    *out += "<h3>Sink-slot mass per head</h3>\n";
    AppendHeadGrid(
        a, [](const v1::HeadSink& h) { return h.sink_slot_mass(); }, /*mark_sinks=*/false, out);
  }

  std::vector<std::vector<Cell>> massive;
  int total_massive = 0;
  for (const v1::LayerReport& l : a.layers()) {
    for (const v1::MassiveActivation& m : l.massive()) {
      ++total_massive;
      if (massive.size() >= static_cast<size_t>(kMaxMassiveRows)) continue;
      massive.push_back({absl::StrCat(m.layer()), absl::StrCat(m.token()), absl::StrCat(m.channel()),
                         Num(m.value()), Num(m.ratio())});
    }
  }
  if (!massive.empty()) {
    *out += "<h3>Massive activations</h3>\n";
    if (total_massive > kMaxMassiveRows) {
      AppendNote(absl::StrCat("First ", kMaxMassiveRows, " of ", total_massive, "."), out);
    }
    AppendTable({"layer", "token", "channel", "value", "|value| / median |h|"}, massive, out);
  }
  *out += "</section>\n";
}

void AppendReceptiveField(const v1::ReceptiveFieldReport& r, std::string* out) {
  absl::StrAppend(out, "<section><h2>Receptive field", r.pattern().empty() ? "" : ": ",
                  Escape(r.pattern()), "</h2>\n");
  if (r.curves_size() > 0) {
    LineChartSpec spec;
    spec.kind = "receptive-field";
    spec.title = absl::StrCat("Influence P(d) by distance", r.pattern().empty() ? "" : ", ",
                              Shorten(r.pattern(), 40));
    spec.x_label = "distance d (tokens)";
    double lo = kInf;
    double hi = 0.0;
    for (const v1::Curve& c : r.curves()) {
      LineSeries s;
      s.name = c.name().empty() ? "curve" : c.name();
      s.x.assign(c.distance().begin(), c.distance().end());
      s.y.assign(c.value().begin(), c.value().end());
      for (double v : s.y) {
        if (std::isfinite(v) && v > 0) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      spec.series.push_back(std::move(s));
    }
    spec.log_y = lo <= hi && hi > 1000.0 * lo;
    // Influence below 1e-12 of the peak is noise on a log axis: leave it out of the range.
    if (spec.log_y) spec.min_y = hi * 1e-12;
    spec.y_label = spec.log_y ? "influence P(d) (log scale)" : "influence P(d)";
    AppendCharts({LineChart(spec)}, out);
  }
  const std::vector<std::vector<Cell>> rows = {
      {"pattern (S sliding, F full)", r.pattern(), ""},
      {"layers", absl::StrCat(r.layers()), ""},
      {"window (tokens)", absl::StrCat(r.window()), ""},
      {"residual strength alpha", Num(r.alpha()), ""},
      {"context (tokens)", absl::StrCat(r.context()), ""},
      {"mean distance (tokens)", Num(r.mean_distance()), ""},
      {"std of distance (tokens)", Num(r.std_distance()), ""},
      {absl::StrCat("reach at ε = ", Num(r.epsilon()), " (tokens)"),
       absl::StrCat(r.reach_at_epsilon()), ""},
      {"distance holding 99% of the mass (tokens)", absl::StrCat(r.distance_99_mass()), ""},
      {"Gaussian std (tokens)", Num(r.gaussian_std()), Num(r.gaussian_std_rel_error())},
      {"Gaussian range (tokens)", Num(r.gaussian_range()), Num(r.gaussian_range_rel_error())},
      {"exponential range (tokens)", Num(r.exponential_range()),
       Num(r.exponential_range_rel_error())},
  };
  AppendTable({"quantity", "value", "relative error of the fit"}, rows, out);
  if (r.reach_vs_depth_size() > 0) {
    LineChartSpec spec;
    spec.kind = "receptive-field";
    spec.title = absl::StrCat("Reach (eps 0.01) against depth, window ", r.window());
    spec.x_label = "layers L";
    spec.y_label = "reach at eps 0.01 (tokens)";
    for (const v1::Curve& c : r.reach_vs_depth()) {
      LineSeries s;
      s.name = c.name().empty() ? "curve" : c.name();
      s.x.assign(c.distance().begin(), c.distance().end());
      s.y.assign(c.value().begin(), c.value().end());
      spec.series.push_back(std::move(s));
    }
    AppendCharts({LineChart(spec)}, out);
  }
  if (r.has_empirical()) {
    const v1::EmpiricalInfluence& e = r.empirical();
    AppendTable({"measured on attention layers", "value"},
                {{"method", e.method()},
                 {"d_model / heads / seed", absl::StrCat(e.d_model(), " / ", e.heads(), " / ", e.seed())},
                 {"sink tokens", absl::StrCat(e.sink_tokens())},
                 {"fitted alpha (residual-to-attention norm ratio)", Num(e.fitted_alpha())},
                 {"mean distance: measured / theory", absl::StrCat(Num(e.mean_distance()), " / ",
                                                                   Num(e.theory_mean_distance()))},
                 {"reach at eps 0.01: measured / theory",
                  absl::StrCat(e.reach_at_epsilon(), " / ", e.theory_reach_at_epsilon())}},
                out);
  }
  if (r.sweep_size() > 0) {
    std::vector<std::vector<Cell>> sweep;
    for (const v1::SweepPoint& p : r.sweep()) {
      sweep.push_back({absl::StrCat(p.window()), Num(p.alpha()), absl::StrCat(p.layers()),
                       Num(p.gaussian_std_rel_error()), Num(p.gaussian_range_rel_error()),
                       Num(p.exponential_range_rel_error()),
                       p.gaussian_within_10pct() ? "Gaussian" : (p.exponential_within_10pct() ? "exponential" : "neither")});
    }
    AppendTable({"W", "alpha", "L", "Gaussian std rel. error", "Gaussian range rel. error",
                 "exponential range rel. error", "within 10 %"},
                sweep, out);
  }
  *out += "</section>\n";
}

void AppendQuantErrorTable(const google::protobuf::RepeatedPtrField<v1::QuantError>& errors,
                           std::string* out) {
  std::vector<std::vector<Cell>> rows;
  for (const v1::QuantError& e : errors) {
    rows.push_back({e.name(), e.scheme().description(), e.weight_scheme().description(), e.path(),
                    DbText(e.sqnr_db()), Num(e.cosine()), Num(e.max_abs_error()),
                    Num(e.rel_fro_error()), absl::StrCat(e.clipped()),
                    absl::StrCat(e.saturations())});
  }
  AppendTable({"name", "scheme", "weight scheme", "path", "SQNR dB", "cosine", "max |err|",
               "rel. Frobenius error", "clipped", "int16 pair saturations"},
              rows, out);
}

void AppendQuantDemo(const v1::QuantDemoReport& q, std::string* out) {
  *out += "<section><h2>Int8 quantization demo</h2>\n";
  if (q.errors_size() == 0) {
    AppendNote("No errors recorded.", out);
    *out += "</section>\n";
    return;
  }
  std::vector<LabelledValue> values;
  for (const v1::QuantError& e : q.errors()) {
    std::string group = e.scheme().description();
    if (!e.weight_scheme().description().empty()) {
      absl::StrAppend(&group, group.empty() ? "" : " × ", e.weight_scheme().description());
    }
    std::string series = e.path().empty() ? ErrorSeriesName(e) : e.path();
    if (group.empty()) {
      group = ErrorSeriesName(e);
      series = e.path().empty() ? "SQNR" : e.path();
    }
    values.push_back({group, series, e.sqnr_db()});
  }
  AppendCharts({QuantErrorChart("int8 GEMM SQNR per scheme", "activation × weight scheme", values)},
               out);
  AppendQuantErrorTable(q.errors(), out);
  *out += "</section>\n";
}

// Mean NLL per StreamingLLM configuration, grouped by variant.
std::string StreamingBars(const v1::StudyReport& s) {
  BarChartSpec spec;
  spec.kind = "streaming";
  spec.title = "StreamingLLM: mean NLL per cache configuration";
  spec.x_label = "variant";
  spec.y_label = "mean NLL (nats, lower is better)";
  std::map<std::string, size_t> series_index;
  for (const v1::StudyVariant& v : s.variants()) {
    for (const v1::StreamingRun& r : v.streaming().runs()) {
      if (series_index.emplace(r.name(), spec.series.size()).second) spec.series.push_back(r.name());
    }
  }
  if (spec.series.empty()) return "";
  for (const v1::StudyVariant& v : s.variants()) {
    BarGroup g{v.name(), std::vector<double>(spec.series.size(), kNaN), 0};
    for (const v1::StreamingRun& r : v.streaming().runs()) g.values[series_index[r.name()]] = r.mean_nll();
    spec.groups.push_back(std::move(g));
  }
  return BarChart(spec);
}

// NLL against stream position, one series per configuration, for one variant.
std::string StreamingCurves(const v1::StudyVariant& v) {
  LineChartSpec spec;
  spec.kind = "streaming";
  spec.title = absl::StrCat("StreamingLLM NLL by position: ", Shorten(v.name(), 40), " (cache ",
                            v.streaming().cache_size(), ")");
  spec.x_label = "stream position (tokens)";
  spec.y_label = "mean NLL per block (nats)";
  for (const v1::StreamingRun& r : v.streaming().runs()) {
    LineSeries series;
    series.name = r.name();
    series.x.assign(r.nll_by_position().distance().begin(), r.nll_by_position().distance().end());
    series.y.assign(r.nll_by_position().value().begin(), r.nll_by_position().value().end());
    if (!series.x.empty()) spec.series.push_back(std::move(series));
  }
  if (spec.series.empty()) return "";
  return LineChart(spec);
}

void AppendTrainingReport(const v1::TrainingReport& t, std::string* out);

void AppendStudyReport(const v1::StudyReport& s, std::string* out) {
  *out += "<section><h2>Sink study</h2>\n";
  if (!s.note().empty()) AppendNote(s.note(), out);
  if (s.variants_size() > 0) {
    *out += "<h3>The answer, per variant</h3>\n";
    AppendNote(
        "Sink_1^ε: % of layer-heads whose first-token mass exceeds ε. abs-max / median: the "
        "largest over layers of the hidden state's abs-max over its median |h|. SQNR: the int8 "
        "attention output against fp32, pooled over layers (higher is better); protected keeps "
        "the first keys' K/V in fp32. Streaming: mean NLL of a stream longer than the cache, "
        "window-only against sink tokens + window against full attention.",
        out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyVariant& v : s.variants()) {
      std::string window = "–", sinks = "–", full = "–";
      int best = -1;
      for (const v1::StreamingRun& r : v.streaming().runs()) {
        if (r.window() == 0) {
          full = Num(r.mean_nll());
        } else if (r.n_sink() == 0) {
          window = Num(r.mean_nll());
        } else if (r.n_sink() > best) {
          best = r.n_sink();
          sinks = absl::StrCat(Num(r.mean_nll()), " (", r.name(), ")");
        }
      }
      if (!v.streaming().skipped().empty()) window = v.streaming().skipped();
      rows.push_back({v.name(), v.layer_pattern(), Num(v.sink_rate()), Num(v.first_token_mass()),
                      Num(v.abs_max_over_median()), absl::StrCat(v.massive_activations()),
                      DbText(v.default_sqnr_db()), DbText(v.protected_sqnr_db()),
                      Num(v.protected_sqnr_db() - v.default_sqnr_db()), window, sinks, full});
    }
    AppendTable({"variant", "layers (S/F)", "Sink_1^ε %", "first-token mass", "abs-max / median",
                 "massive activations", "SQNR dB default", "SQNR dB protected", "gain dB",
                 "stream NLL window-only", "stream NLL with sinks", "stream NLL full"},
                rows, out);
  }
  if (s.rows_size() > 0) {
    std::vector<LabelledValue> values;
    std::vector<std::vector<Cell>> rows;
    for (const v1::StudyRow& r : s.rows()) {
      values.push_back({r.variant(), r.config(), r.attention_error().sqnr_db()});
      rows.push_back({r.variant(), r.config(), Num(r.sink_rate()), Num(r.abs_max_over_median()),
                      DbText(r.attention_error().sqnr_db()),
                      r.layers_size() > 0 ? DbText(r.worst_layer_sqnr_db()) : "",
                      Num(r.attention_error().cosine()), Num(r.streaming_nll())});
    }
    *out += "<h3>int8 attention cost per configuration</h3>\n";
    std::vector<std::string> charts = {QuantErrorChart(
        "Attention-output SQNR by variant and configuration", "variant", values)};
    for (const v1::StudyVariant& v : s.variants()) {
      std::vector<LabelledValue> per_layer;
      for (const v1::StudyRow& r : s.rows()) {
        if (r.variant() != v.name()) continue;
        for (const v1::StudyLayerError& l : r.layers()) {
          per_layer.push_back({absl::StrCat("layer ", l.layer()), r.config(), l.output().sqnr_db()});
        }
      }
      if (!per_layer.empty()) {
        charts.push_back(QuantErrorChart(absl::StrCat("SQNR per layer and configuration: ",
                                                      Shorten(v.name(), 40)),
                                         "layer", per_layer));
      }
    }
    AppendCharts(charts, out);
    AppendTable({"variant", "configuration", "sink rate %", "abs-max / median", "SQNR dB",
                 "worst layer dB", "cosine", "streaming NLL"},
                rows, out);
  }
  std::vector<std::string> streaming = {StreamingBars(s)};
  for (const v1::StudyVariant& v : s.variants()) streaming.push_back(StreamingCurves(v));
  if (std::any_of(streaming.begin(), streaming.end(), [](const std::string& c) { return !c.empty(); })) {
    *out += "<h3>StreamingLLM: a bounded cache with and without sink tokens</h3>\n";
    AppendNote(
        "Each layer keeps n_sink first tokens plus a rolling window (positions within the "
        "cache); \"window\" keeps no sinks, \"full\" attends to the whole stream.",
        out);
    AppendCharts(streaming, out);
  }
  *out += "</section>\n";
  if (s.has_training()) AppendTrainingReport(s.training(), out);
  for (const v1::ActivationReport& a : s.activations()) AppendActivationReport(a, out);
  for (const v1::ReceptiveFieldReport& r : s.receptive_fields()) AppendReceptiveField(r, out);
}

double MeanOf(const google::protobuf::RepeatedField<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / v.size();
}

// Emergence over training: one line per run for each metric, against the step.
void AppendTrainingReport(const v1::TrainingReport& t, std::string* out) {
  *out += "<section><h2>Training: emergence over training</h2>\n";
  AppendNote(absl::StrCat("Schedule: ", t.schedule(),
                          ". Metrics on held-out sequences at every checkpoint, measured through "
                          "model/ and attention/ on the checkpoint as written."),
             out);
  struct Metric {
    const char* kind;
    const char* title;
    const char* y_label;
    bool log_y;
    double (*value)(const v1::EmergencePoint&);
  };
  const Metric metrics[] = {
      {"training-copy-loss", "Copy-position loss (held out)", "NLL (nats)", false,
       [](const v1::EmergencePoint& e) { return e.eval_copy_loss(); }},
      {"training-sink-rate", "Sink rate Sink_1^0.3", "% of heads", false,
       [](const v1::EmergencePoint& e) { return e.sink_rate(); }},
      {"training-massive", "Residual abs-max / median", "ratio", true,
       [](const v1::EmergencePoint& e) { return e.abs_max_over_median(); }},
      {"training-int8", "Int8 attention output SQNR (mean over layers)", "dB", false,
       [](const v1::EmergencePoint& e) { return MeanOf(e.attention_sqnr_db()); }},
  };
  std::vector<std::string> charts;
  for (const Metric& m : metrics) {
    LineChartSpec spec;
    spec.kind = m.kind;
    spec.title = m.title;
    spec.x_label = "training step";
    spec.y_label = m.y_label;
    spec.log_y = m.log_y;
    for (const v1::TrainingRun& r : t.runs()) {
      LineSeries series;
      series.name = r.name();
      for (const v1::EmergencePoint& e : r.emergence()) {
        series.x.push_back(static_cast<double>(e.step()));
        series.y.push_back(m.value(e));
      }
      spec.series.push_back(std::move(series));
    }
    charts.push_back(LineChart(spec));
  }
  AppendCharts(charts, out);
  std::vector<std::vector<Cell>> rows;
  for (const v1::TrainingRun& r : t.runs()) {
    if (r.emergence().empty()) continue;
    const v1::EmergencePoint& e = r.emergence(r.emergence_size() - 1);
    rows.push_back({r.name(), r.variant(), r.task(),
                    r.window() > 0 ? absl::StrCat(r.mask_pattern(), " W=", r.window())
                                   : r.mask_pattern(),
                    Num(e.eval_loss()), Num(e.eval_copy_loss()), Num(r.copy_baseline_nll()),
                    Num(e.sink_rate()), Num(e.abs_max_over_median()),
                    DbText(MeanOf(e.attention_sqnr_db())),
                    DbText(MeanOf(e.attention_sqnr_db_keep_sink())), Num(r.seconds())});
  }
  AppendTable({"run", "variant", "task", "mask", "loss", "copy loss", "copy baseline",
               "sink rate %", "abs-max / median", "int8 SQNR dB", "keep-sink SQNR dB", "seconds"},
              rows, out);
  *out += "</section>\n";
}

// Whole-model quantized evaluation: KL per configuration (log axis), the per-layer residual SQNR
// lines (where the error enters and grows), and the table sorted by KL.
void AppendQuantEval(const v1::QuantEvalReport& q, std::string* out) {
  *out += "<section><h2>What quantization costs end to end</h2>\n";
  AppendNote(absl::StrCat(q.model_type(), ", ", q.num_layers(), " layers, ", q.num_predicted(),
                          " predicted tokens; fp32 NLL ", Num(q.fp32_mean_nll()),
                          ". KL(p_fp32 || p_config) in nats, mean over predicted positions."),
             out);
  std::vector<const v1::QuantEvalConfig*> order;
  for (const v1::QuantEvalConfig& c : q.configs()) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->mean_kl() < b->mean_kl(); });
  BarChartSpec kl;
  kl.kind = "quant-eval-kl";
  kl.title = "Mean KL divergence from fp32 per configuration";
  kl.x_label = "configuration";
  kl.y_label = "KL (nats)";
  kl.log_y = true;
  kl.series = {"KL"};
  for (const auto* c : order) kl.groups.push_back({c->name(), {c->mean_kl()}, 0});
  LineChartSpec layers;
  layers.kind = "quant-eval-layers";
  layers.title = "Residual stream SQNR against fp32, per layer";
  layers.x_label = "layer";
  layers.y_label = "SQNR dB";
  for (const auto* c : order) {
    LineSeries s;
    s.name = c->name();
    for (const v1::QuantEvalLayer& l : c->layers()) {
      s.x.push_back(l.layer());
      s.y.push_back(l.residual_sqnr_db());
    }
    layers.series.push_back(std::move(s));
  }
  AppendCharts({BarChart(kl), LineChart(layers)}, out);
  std::vector<std::vector<Cell>> rows;
  for (const auto* c : order) {
    rows.push_back({c->name(), c->weights(), c->activations(), c->kv_cache(), Num(c->mean_nll()),
                    Num(c->delta_nll()), Num(c->mean_kl()), Num(100 * c->top1_agreement())});
  }
  AppendTable({"configuration", "weights", "activations", "KV cache", "NLL", "dNLL", "KL (nats)",
               "top-1 agreement %"},
              rows, out);
  *out += "</section>\n";
}

constexpr absl::string_view kCss = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;
 background:#fafafa;margin:0 auto;padding:16px 24px;max-width:1320px;font-size:14px;line-height:1.4}
h1{font-size:22px;margin:4px 0 12px}
h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #0072B2}
h3{font-size:15px;margin:18px 0 6px}
section{margin-bottom:12px}
table{border-collapse:collapse;font-size:12.5px;background:#fff;margin:4px 0 10px}
th,td{border:1px solid #d6d6d6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef3f8;font-weight:600}
td{font-variant-numeric:tabular-nums}
table.fields td:first-child{color:#444;white-space:nowrap}
table.grid td{text-align:center;min-width:34px;padding:2px 4px}
.scroll{max-width:100%;overflow-x:auto}
.note{color:#555;font-size:12.5px;margin:2px 0 6px}
.empty{font-size:16px;padding:16px;background:#fff3cd;border:1px solid #e0c36c}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.fig{background:#fff;border:1px solid #ddd;border-radius:4px;padding:4px;max-width:100%;overflow-x:auto}
svg.chart{display:block}
svg.chart text{font-family:system-ui,"DejaVu Sans",sans-serif;fill:#222}
svg.chart .t{font-size:13px;font-weight:600}
svg.chart .l{font-size:11.5px;fill:#333}
svg.chart .k{font-size:10px;fill:#444}
svg.chart .s{font-size:10px;fill:#444}
svg.chart .g{font-size:11px}
svg.chart .a{font-size:10px;fill:#8a3300}
svg.chart .h{font-size:9px;fill:#111;stroke:#fff;stroke-width:2.5px;paint-order:stroke}
)css";

}  // namespace

std::string RenderHtmlReport(const v1::Report& report) {
  const std::string tool = report.provenance().tool();
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
      "<title>sinkscope report", tool.empty() ? "" : ": ", Escape(tool), "</title>\n<style>",
      kCss, "</style>\n</head>\n<body>\n<h1>sinkscope report", tool.empty() ? "" : ": ",
      Escape(tool), "</h1>\n");
  AppendProvenance(report, &out);
  switch (report.body_case()) {
    case v1::Report::kWeightReport: AppendWeightReport(report.weight_report(), &out); break;
    case v1::Report::kActivationReport:
      AppendActivationReport(report.activation_report(), &out);
      break;
    case v1::Report::kReceptiveFieldReport:
      AppendReceptiveField(report.receptive_field_report(), &out);
      break;
    case v1::Report::kStudyReport: AppendStudyReport(report.study_report(), &out); break;
    case v1::Report::kQuantDemoReport: AppendQuantDemo(report.quant_demo_report(), &out); break;
    case v1::Report::kTrainingReport: AppendTrainingReport(report.training_report(), &out); break;
    case v1::Report::kQuantEvalReport: AppendQuantEval(report.quant_eval_report(), &out); break;
    case v1::Report::BODY_NOT_SET:
      out += "<p class=\"empty\">This report has no body: nothing to show.</p>\n";
      break;
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace sinkscope::analysis
