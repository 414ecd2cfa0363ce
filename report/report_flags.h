// File: report/report_flags.h
//
// report_flags.h: the output flags every report-writing binary shares:
//   --out=FILE.pb  --json=FILE.json  --textproto=FILE.txtpb
//
// Example:
//   ReportOutputs outputs = ReportOutputsFromFlags();
#ifndef SINKSCOPE_REPORT_REPORT_FLAGS_H_
#define SINKSCOPE_REPORT_REPORT_FLAGS_H_

#include "absl/flags/declare.h"
#include "report/report_io.h"

ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, json);
ABSL_DECLARE_FLAG(std::string, textproto);

namespace sinkscope::analysis {

ReportOutputs ReportOutputsFromFlags();

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_REPORT_FLAGS_H_
