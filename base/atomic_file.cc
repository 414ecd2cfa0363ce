#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sinkscope::model {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status Errno(const std::string& path, absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

// A fresh temporary file next to `path`; *tmp receives its name.
int CreateTemp(const std::string& path, std::string* tmp) {
  std::vector<char> name(path.begin(), path.end());
  const char suffix[] = ".tmp-XXXXXX";
  name.insert(name.end(), suffix, suffix + sizeof(suffix));  // includes the NUL
  const int fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) *tmp = name.data();
  return fd;
}

}  // namespace

absl::Status CheckWritable(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty output path");
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  const std::string dir = DirectoryOf(path);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat(path, ": directory '", dir, "' does not exist"));
  }
  std::string tmp;
  const int fd = CreateTemp(path, &tmp);
  if (fd < 0) return Errno(path, "cannot create a file in its directory");
  close(fd);
  unlink(tmp.c_str());
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 AtomicWriteOptions options) {
  if (absl::Status st = CheckWritable(path); !st.ok()) return st;
  std::string tmp;
  const int fd = CreateTemp(path, &tmp);
  if (fd < 0) return Errno(path, "cannot create a temporary file");
  const auto abandon = [&](absl::Status st) {
    close(fd);
    unlink(tmp.c_str());
    return st;
  };
  size_t written = 0;
  while (written < contents.size()) {
    size_t chunk = contents.size() - written;
    if (options.fail_after_bytes >= 0) {
      if (written >= static_cast<size_t>(options.fail_after_bytes)) {
        errno = EIO;
        return abandon(Errno(path, "write failed (simulated)"));
      }
      chunk = std::min(chunk, static_cast<size_t>(options.fail_after_bytes) - written);
    }
    const ssize_t n = write(fd, contents.data() + written, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon(Errno(path, "write failed"));
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return abandon(Errno(path, "fsync failed"));
  // Temporary files are created 0600; give the result the usual permissions.
  const mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  if (close(fd) != 0) {
    unlink(tmp.c_str());
    return Errno(path, "close failed");
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const absl::Status st = Errno(path, "rename failed");
    unlink(tmp.c_str());
    return st;
  }
  const int dir_fd = open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

absl::Status ReadFileToString(const std::string& path, std::string* out, int64_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  if (st.st_size > max_bytes) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", st.st_size, " bytes, more than the limit of ", max_bytes));
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out->size()) {
    const ssize_t n = read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return absl::DataLossError(absl::StrCat(path, ": read failed"));
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("cannot create directory '", part, "': ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace sinkscope::model
