// html_report.cc: RenderHtmlReport: the page's head and CSS, the provenance, then the section of
// the report's body (html_sections.h); charts come from the SVG toolkit (svg_*.h).
#include "report/html_report.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_text.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;
using html_internal::AppendActivationReport;
using html_internal::AppendTable;
using html_internal::Cell;
using html_internal::AppendFields;
using html_internal::AppendNote;
using html_internal::AppendQuantDemo;
using html_internal::AppendReceptiveField;
using html_internal::AppendStudyReport;
using html_internal::AppendTrainingReport;
using html_internal::AppendQuantEval;
using html_internal::AppendWeightReport;
using svg::Escape;

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
  if (p.has_text_input()) {
    const v1::TextInput& t = p.text_input();
    *out += "<h3>Text input</h3>\n";
    AppendFields({{"tokenizer file", t.tokenizer_file()},
                  {"tokenizer SHA-256", t.tokenizer_sha256()},
                  {"tokenizer", t.tokenizer()},
                  {"special tokens added", t.add_special_tokens() ? "yes" : "no"}},
                 out);
    std::vector<std::vector<Cell>> rows;
    for (const v1::TextFile& f : t.files()) {
      rows.push_back({f.path(), absl::StrCat(f.tokens()), absl::StrCat(f.tokens_used())});
    }
    AppendTable({"text file", "tokens", "tokens used"}, rows, out);
  }
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
svg.chart .v{font-variant-numeric:tabular-nums}
details{margin:4px 0 10px}
summary{cursor:pointer;color:#0b4f8a;font-size:13px;margin:2px 0 4px}
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
