// report_view: prints a human summary of any sinkscope report (.pb, .json or .txtpb) and, with
// --html, writes it as one self-contained HTML page (inline SVG, works offline).
//
// Usage: report_view REPORT [--html=report.html] [--rows=20]
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/html_report.h"
#include "report/report_io.h"
#include "report/report_text.h"

ABSL_FLAG(std::string, html, "", "also write the report as a self-contained HTML page here");
ABSL_FLAG(int, rows, 20, "rows per table in the text summary");

namespace sa = sinkscope::analysis;

int main(int argc, char** argv) {
  constexpr char kTool[] = "report_view";
  absl::SetProgramUsageMessage("report_view REPORT.{pb,json,txtpb} [--html=FILE.html]");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) return sa::UsageError(kTool, "give exactly one report file");
  const int rows = absl::GetFlag(FLAGS_rows);
  if (rows < 1) return sa::UsageError(kTool, "--rows must be >= 1");
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::CheckWritable(html); !st.ok()) {
      return sa::Fail(kTool, st);
    }
  }
  absl::StatusOr<sinkscope::v1::Report> report = sa::ReadReport(args[1]);
  if (!report.ok()) return sa::Fail(kTool, report.status());
  std::cout << sa::DescribeReport(*report, rows);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::WriteFileAtomically(html, sa::RenderHtmlReport(*report));
        !st.ok()) {
      return sa::Fail(kTool, st);
    }
    std::cerr << kTool << ": wrote " << html << "\n";
  }
  return 0;
}
