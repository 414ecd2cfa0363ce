// svg_text.cc: escaping, number formatting and label sizes for the SVG toolkit and the page.
#include "report/svg_text.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sinkscope::analysis::svg {

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

std::string Num(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "+∞" : "−∞";
  return absl::StrFormat("%.3g", v);
}

std::string DbText(double v) {
  if (std::isinf(v) && v > 0) return "exact";
  return Num(v);
}

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

double TextWidth(absl::string_view s, double font_px) {
  return 0.6 * font_px * static_cast<double>(Utf8Length(s));
}

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

}  // namespace sinkscope::analysis::svg
