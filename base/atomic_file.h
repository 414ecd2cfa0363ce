// File: base/atomic_file.h
//
// atomic_file.h: all-or-nothing file output. The bytes go to a temporary file in the target's
// directory, which is fsync'ed and renamed over the target (then the directory is fsync'ed), so
// a reader sees the old file or the complete new one, never a partial one; on any error the
// temporary file is removed and the target is untouched.
//
// Example:
//   if (absl::Status st = CheckWritable("out/report.pb"); !st.ok()) return st;  // before work
//   ...
//   absl::Status st = WriteFileAtomically("out/report.pb", bytes);
#ifndef SINKSCOPE_BASE_ATOMIC_FILE_H_
#define SINKSCOPE_BASE_ATOMIC_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sinkscope::model {

struct AtomicWriteOptions {
  // Testing only: fail with an I/O error after writing this many bytes (< 0: never).
  int64_t fail_after_bytes = -1;
};

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 AtomicWriteOptions options = {});

// OK when `path` could be written: its directory exists and accepts a new file, and the path is
// not a directory. Leaves nothing behind. Call before long work so that it fails early.
absl::Status CheckWritable(const std::string& path);

// Creates `dir` and its missing parents (mode 0755), like mkdir -p. Errors name the directory.
absl::Status MakeDirectories(const std::string& dir);

// The whole file, or an error naming it. Files larger than max_bytes are an error.
absl::Status ReadFileToString(const std::string& path, std::string* out,
                              int64_t max_bytes = int64_t{1} << 32);

}  // namespace sinkscope::model

#endif  // SINKSCOPE_BASE_ATOMIC_FILE_H_
