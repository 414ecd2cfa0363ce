#include "report/report_io.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "report/report_json.h"

namespace sinkscope::analysis {

absl::Status CheckReportOutputs(const ReportOutputs& o) {
  for (const std::string* p : {&o.pb, &o.json, &o.textproto}) {
    if (p->empty()) continue;
    if (absl::Status st = model::CheckWritable(*p); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReportToJson(const sinkscope::v1::Report& report) {
  return ReportJson(report);
}

absl::Status WriteReport(const sinkscope::v1::Report& report, const ReportOutputs& o) {
  if (!o.pb.empty()) {
    std::string bytes;
    if (!report.SerializeToString(&bytes)) {
      return absl::InternalError("report serialization failed");
    }
    if (absl::Status st = model::WriteFileAtomically(o.pb, bytes); !st.ok()) return st;
  }
  if (!o.json.empty()) {
    absl::StatusOr<std::string> json = ReportToJson(report);
    if (!json.ok()) return json.status();
    if (absl::Status st = model::WriteFileAtomically(o.json, *json); !st.ok()) return st;
  }
  if (!o.textproto.empty()) {
    std::string text;
    if (!google::protobuf::TextFormat::PrintToString(report, &text)) {
      return absl::InternalError("text format encoding failed");
    }
    if (absl::Status st = model::WriteFileAtomically(o.textproto, text); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<sinkscope::v1::Report> ReadReport(const std::string& path) {
  std::string bytes;
  if (absl::Status st = model::ReadFileToString(path, &bytes); !st.ok()) return st;
  sinkscope::v1::Report report;
  if (absl::EndsWith(path, ".json")) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // reports from newer versions stay readable
    const auto st = google::protobuf::util::JsonStringToMessage(bytes, &report, options);
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a sinkscope JSON report: ", st.ToString()));
    }
  } else if (absl::EndsWith(path, ".txtpb") || absl::EndsWith(path, ".textproto")) {
    if (!google::protobuf::TextFormat::ParseFromString(bytes, &report)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a sinkscope text report"));
    }
  } else if (!report.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a sinkscope binary report"));
  }
  if (report.body_case() == sinkscope::v1::Report::BODY_NOT_SET && !report.has_provenance()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty or not a sinkscope report"));
  }
  return report;
}

}  // namespace sinkscope::analysis
