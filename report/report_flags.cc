#include "report/report_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, out, "", "write the report as binary protobuf to this file (.pb)");
ABSL_FLAG(std::string, json, "", "write the report as JSON (proto3 mapping) to this file");
ABSL_FLAG(std::string, textproto, "", "write the report in protobuf text format to this file");

namespace sinkscope::analysis {

ReportOutputs ReportOutputsFromFlags() {
  ReportOutputs o;
  o.pb = absl::GetFlag(FLAGS_out);
  o.json = absl::GetFlag(FLAGS_json);
  o.textproto = absl::GetFlag(FLAGS_textproto);
  return o;
}

}  // namespace sinkscope::analysis
