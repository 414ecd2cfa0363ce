// File: base/cli.h
//
// cli.h: how sinkscope binaries end: errors go to stderr as "tool: error: message" with exit
// code 1; usage errors (bad or missing flags) with exit code 2.
//
// Example:
//   if (path.empty()) return UsageError("weight_scan", "--checkpoint is required");
//   if (!st.ok()) return Fail("weight_scan", st);
#ifndef SINKSCOPE_BASE_CLI_H_
#define SINKSCOPE_BASE_CLI_H_

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sinkscope::analysis {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

inline int Fail(absl::string_view tool, const absl::Status& status) {
  std::cerr << tool << ": error: " << status.message() << "\n";
  return kExitError;
}

inline int UsageError(absl::string_view tool, absl::string_view message) {
  std::cerr << tool << ": usage error: " << message << "\n(run " << tool
            << " --help for the flags)\n";
  return kExitUsage;
}

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_BASE_CLI_H_
