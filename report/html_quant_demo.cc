// html_quant_demo.cc: the int8 quantization demo section: SQNR per activation x weight scheme
// and path, and the error table.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::DbText;
using svg::Num;

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

}  // namespace

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

}  // namespace sinkscope::analysis::html_internal
