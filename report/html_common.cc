// html_common.cc: tables, notes, the chart grid and the shared SQNR and channel-profile charts.
#include "report/html_common.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "report/svg_bar_chart.h"
#include "report/svg_line_chart.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::BarChart;
using svg::BarChartSpec;
using svg::BarGroup;
using svg::Escape;
using svg::LineChart;
using svg::LineChartSpec;
using svg::LineSeries;
using svg::Num;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kTopChannelsAnnotated = 3;

}  // namespace

void AppendTable(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows,
                 std::string* out, absl::string_view cls) {
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

std::string ErrorSeriesName(const v1::QuantError& e) {
  if (!e.name().empty()) return e.name();
  if (!e.scheme().description().empty()) return e.scheme().description();
  return !e.path().empty() ? e.path() : "error";
}

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

}  // namespace sinkscope::analysis::html_internal
