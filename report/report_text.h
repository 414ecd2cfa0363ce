// File: report/report_text.h
//
// report_text.h: the human summary of any sinkscope report, as report_view prints it: the
// provenance line, then per kind the few numbers that answer its question (worst tensors by
// abs-max / median and their int8 SQNR; sink rate and massive activations per layer; receptive
// field summaries; study rows).
//
// Example:
//   std::cout << DescribeReport(report);
#ifndef SINKSCOPE_REPORT_REPORT_TEXT_H_
#define SINKSCOPE_REPORT_REPORT_TEXT_H_

#include <string>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

std::string DescribeReport(const sinkscope::v1::Report& report, int max_rows = 20);

// The provenance's shard runs (a merged report's, report_merge prints it): one line per shard
// (host, tensors / bytes or token files / tokens, seconds) and the spread of bytes and seconds
// (max / min); "" when there are none.
std::string DescribeShardRuns(const sinkscope::v1::Provenance& provenance);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_REPORT_TEXT_H_
