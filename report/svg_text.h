// File: report/svg_text.h
//
// svg_text.h: text for the SVG chart toolkit and the HTML page: HTML escaping, numbers for people
// (%.3g, non-finite values in words, an infinite SQNR as "exact"), SVG coordinates (one decimal,
// never "nan" or "inf") and a width estimate and shortening for labels.
//
// Example:
//   svg.Text(x, y, Shorten(tensor_name, 40));              // Text escapes; x, y go through Px
//   row.push_back(DbText(error.sqnr_db()));                 // "exact" for +inf
#ifndef SINKSCOPE_REPORT_SVG_TEXT_H_
#define SINKSCOPE_REPORT_SVG_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace sinkscope::analysis::svg {

// HTML-escapes text for element content and quoted attribute values; control characters other
// than tab and newline become '?'.
std::string Escape(absl::string_view s);

// A number for people: %.3g; non-finite values in words (never inside coordinates: see Px).
std::string Num(double v);

// An SQNR for people: +inf means the quantized result equals the reference.
std::string DbText(double v);

// An SVG coordinate or length: one decimal, non-finite values become 0.
std::string Px(double v);

// Characters (code points) in a UTF-8 string.
size_t Utf8Length(absl::string_view s);

// Width in pixels of a sans-serif string at `font_px`: an estimate, enough for layout.
double TextWidth(absl::string_view s, double font_px);

// Keeps the start and the end of a long name ("model.layers.1…q_proj.weight"), on UTF-8
// character boundaries.
std::string Shorten(absl::string_view s, size_t max_chars);

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_TEXT_H_
