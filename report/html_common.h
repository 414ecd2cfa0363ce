// File: report/html_common.h
//
// html_common.h: pieces the HTML page's sections share: tables (with per-cell inline style),
// field tables, notes, the chart grid, and the two charts several sections draw: SQNR bars
// grouped by tensor / layer / variant (`QuantErrorChart`) and a per-channel abs-max profile
// (`ChannelProfileChart`). Internal to //report:html_report: do not depend on this.
//
// Example:
//   AppendNote("alpha_1: mean over queries of the probability on key 0.", &out);
//   AppendCharts({QuantErrorChart("SQNR per layer", "layer", values)}, &out);
//   AppendTable({"layer", "SQNR dB"}, rows, &out);
#ifndef SINKSCOPE_REPORT_HTML_COMMON_H_
#define SINKSCOPE_REPORT_HTML_COMMON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis::html_internal {

struct Cell {
  Cell(std::string t) : text(std::move(t)) {}             // NOLINT: implicit by design
  Cell(const char* t) : text(t) {}                        // NOLINT
  Cell(std::string t, std::string s) : text(std::move(t)), style(std::move(s)) {}
  std::string text;   // plain text, escaped when written
  std::string style;  // inline CSS, from the report's own code only
};

// A scrolling <table> with one header row; nothing without rows. `cls`: the table's CSS class.
void AppendTable(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows,
                 std::string* out, absl::string_view cls = "");

// A two-column (field, value) table; fields with an empty value are left out.
void AppendFields(const std::vector<std::pair<std::string, std::string>>& fields,
                  std::string* out);

void AppendNote(absl::string_view text, std::string* out);

// The charts in a wrapping grid, one figure each; empty strings are skipped (nothing at all
// when every chart is empty).
void AppendCharts(const std::vector<std::string>& charts, std::string* out);

// The legend name of an error: its name, else its scheme's description, else its path.
std::string ErrorSeriesName(const sinkscope::v1::QuantError& e);

struct LabelledValue {
  std::string group;
  std::string series;
  double value;
};

// Grouped SQNR bars (data-chart="quant-error"): groups and series in first-seen order.
std::string QuantErrorChart(absl::string_view title, absl::string_view x_label,
                            const std::vector<LabelledValue>& values);

// Per-channel abs-max on a log axis (data-chart="channel-profile"), the top channels annotated;
// "" without channels.
std::string ChannelProfileChart(absl::string_view title,
                                const sinkscope::v1::OutlierProfile& profile);

}  // namespace sinkscope::analysis::html_internal

#endif  // SINKSCOPE_REPORT_HTML_COMMON_H_
