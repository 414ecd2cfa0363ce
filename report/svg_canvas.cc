// svg_canvas.cc: the SVG element builder, axes and legends.
#include "report/svg_canvas.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::svg {

void Svg::Rect(double x, double y, double w, double h, absl::string_view fill,
               absl::string_view tooltip, absl::string_view extra) {
  absl::StrAppend(&body_, "<rect x=\"", Px(x), "\" y=\"", Px(y), "\" width=\"",
                  Px(std::max(0.0, w)), "\" height=\"", Px(std::max(0.0, h)), "\" fill=\"",
                  fill, "\"", extra);
  if (tooltip.empty()) {
    body_ += "/>";
  } else {
    absl::StrAppend(&body_, "><title>", Escape(tooltip), "</title></rect>");
  }
}

void Svg::Line(double x1, double y1, double x2, double y2, absl::string_view stroke,
               double stroke_width, absl::string_view extra) {
  absl::StrAppend(&body_, "<line x1=\"", Px(x1), "\" y1=\"", Px(y1), "\" x2=\"", Px(x2),
                  "\" y2=\"", Px(y2), "\" stroke=\"", stroke, "\" stroke-width=\"",
                  Px(stroke_width), "\"", extra, "/>");
}

void Svg::Circle(double cx, double cy, double r, absl::string_view fill, absl::string_view stroke) {
  absl::StrAppend(&body_, "<circle cx=\"", Px(cx), "\" cy=\"", Px(cy), "\" r=\"", Px(r),
                  "\" fill=\"", fill, "\" stroke=\"", stroke, "\"/>");
}

void Svg::Polyline(const std::vector<std::pair<double, double>>& points, absl::string_view stroke,
                   absl::string_view dash) {
  std::string pts;
  for (const auto& [x, y] : points) {
    absl::StrAppend(&pts, pts.empty() ? "" : " ", Px(x), ",", Px(y));
  }
  absl::StrAppend(&body_, "<polyline points=\"", pts, "\" fill=\"none\" stroke=\"", stroke,
                  "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"");
  if (!dash.empty()) absl::StrAppend(&body_, " stroke-dasharray=\"", dash, "\"");
  body_ += "/>";
}

void Svg::Triangle(double cx, double cy, double size, absl::string_view fill) {
  const double h = size * 0.9;
  absl::StrAppend(&body_, "<path d=\"M", Px(cx - size / 2), " ", Px(cy + h / 2), " L",
                  Px(cx + size / 2), " ", Px(cy + h / 2), " L", Px(cx), " ", Px(cy - h / 2),
                  " Z\" fill=\"", fill, "\"/>");
}

void Svg::Text(double x, double y, absl::string_view text, absl::string_view anchor,
               absl::string_view cls, double rotate_deg, absl::string_view extra) {
  absl::StrAppend(&body_, "<text x=\"", Px(x), "\" y=\"", Px(y), "\" class=\"", cls, "\"");
  if (anchor != "start") absl::StrAppend(&body_, " text-anchor=\"", anchor, "\"");
  if (rotate_deg != 0.0) {
    absl::StrAppend(&body_, " transform=\"rotate(", Px(rotate_deg), " ", Px(x), " ", Px(y),
                    ")\"");
  }
  absl::StrAppend(&body_, extra, ">", Escape(text), "</text>");
}

std::string Svg::Finish() const {
  return absl::StrCat("<svg class=\"chart\" data-chart=\"", kind_, "\" role=\"img\" width=\"",
                      Px(width_), "\" height=\"", Px(height_), "\" viewBox=\"0 0 ", Px(width_),
                      " ", Px(height_), "\"><title>", Escape(title_), "</title>", body_,
                      "</svg>\n");
}

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

void DrawXAxis(Svg* svg, const Scale& x, const Frame& f, absl::string_view label) {
  svg->Line(f.x, f.bottom(), f.right(), f.bottom(), "#555");
  for (double t : x.Ticks()) {
    const double px = x(t);
    svg->Line(px, f.bottom(), px, f.bottom() + 4, "#555");
    svg->Text(px, f.bottom() + 15, Num(t), "middle", "k");
  }
  svg->Text(f.x + f.w / 2, f.bottom() + 32, label, "middle", "l");
}

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

}  // namespace sinkscope::analysis::svg
