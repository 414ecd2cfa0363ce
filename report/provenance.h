// File: report/provenance.h
//
// provenance.h: the `Provenance` every report carries: tool, sinkscope version, git commit when
// known (env SINKSCOPE_GIT_COMMIT, else `git rev-parse HEAD` in the workspace `bazel run` was
// called from), RFC 3339 UTC time, the CPU ISA oneDNN dispatches to, oneDNN's version, the
// command line and the resolved configuration.
//
// Example:
//   sinkscope::v1::Provenance p = MakeProvenance("weight_scan", argc, argv, {{"shard", "0/2"}});
#ifndef SINKSCOPE_REPORT_PROVENANCE_H_
#define SINKSCOPE_REPORT_PROVENANCE_H_

#include <map>
#include <string>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

inline constexpr char kSinkscopeVersion[] = "0.1.0";

sinkscope::v1::Provenance MakeProvenance(const std::string& tool, int argc, char** argv,
                                         const std::map<std::string, std::string>& config = {});

// Appends this process's ShardRun (shard index/count, the scan's wall seconds, this host's
// name, the provenance's time) to `provenance` and returns it for the tool's own counts.
sinkscope::v1::ShardRun* AddShardRun(sinkscope::v1::Provenance* provenance, int index, int count,
                                     double seconds);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_PROVENANCE_H_
