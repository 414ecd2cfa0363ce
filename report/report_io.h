// File: report/report_io.h
//
// report_io.h: the one writer and reader of sinkscope reports (`sinkscope.v1.Report`).
// Formats: binary protobuf (.pb), proto3 JSON with the proto field names preserved (.json), and
// text format (.txtpb). Writes are atomic (base/atomic_file.h); CheckReportOutputs fails early,
// before any work, on an unwritable path.
//
// Example:
//   ReportOutputs out = ReportOutputsFromFlags();         // --out, --json, --textproto
//   if (absl::Status st = CheckReportOutputs(out); !st.ok()) return Exit(st);
//   ... build `report` ...
//   absl::Status st = WriteReport(report, out);
//   absl::StatusOr<sinkscope::v1::Report> back = ReadReport("scan.json");
#ifndef SINKSCOPE_REPORT_REPORT_IO_H_
#define SINKSCOPE_REPORT_REPORT_IO_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct ReportOutputs {
  std::string pb;         // binary
  std::string json;       // proto3 JSON, snake_case field names
  std::string textproto;  // text format
  bool empty() const { return pb.empty() && json.empty() && textproto.empty(); }
};

absl::Status CheckReportOutputs(const ReportOutputs& outputs);
absl::Status WriteReport(const sinkscope::v1::Report& report, const ReportOutputs& outputs);

// Proto3 JSON mapping, field names as in the .proto, default values printed, indented, repeated
// scalars on one line (report_json.h).
absl::StatusOr<std::string> ReportToJson(const sinkscope::v1::Report& report);

// Reads .json (JSON), .txtpb / .textproto (text format), anything else as binary. Errors name
// the file.
absl::StatusOr<sinkscope::v1::Report> ReadReport(const std::string& path);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_REPORT_IO_H_
