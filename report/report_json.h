// File: report/report_json.h
//
// report_json.h: the proto3 JSON of a sinkscope report, written straight from the message by
// reflection into one string: the mapping of protobuf's JSON printer with
// preserve_proto_field_names and always_print_primitive_fields (snake_case names; int64 as
// strings; enums by name; NaN / Infinity as strings; every singular scalar and every repeated
// field printed, set messages only), in a layout that stays small: objects indented one space per
// level, repeated scalars on one line ("per_channel_abs_max": [0.5, 0.25, ...]).
//
// Why not google::protobuf::util::MessageToJsonString: it converts through an intermediate
// stream of its own and prints each array element on its own line; on a weight scan of a
// 0.5B-parameter checkpoint (19 MB of JSON, 1.08 M lines) that cost as much as the scan itself.
// Numbers are the shortest decimal that parses back to the same float / double (std::to_chars),
// so protobuf's JSON parser (and any other) reads back exactly the message that was written.
//
// Example:
//   std::string json = ReportJson(report);   // then WriteFileAtomically(path, json)
#ifndef SINKSCOPE_REPORT_REPORT_JSON_H_
#define SINKSCOPE_REPORT_REPORT_JSON_H_

#include <string>

#include <google/protobuf/message.h>

namespace sinkscope::analysis {

// Any message (the mapping is general; sinkscope.v1 uses no well-known types, maps of string to
// string only, and no bytes fields, which are all handled).
std::string ReportJson(const google::protobuf::Message& message);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_REPORT_JSON_H_
