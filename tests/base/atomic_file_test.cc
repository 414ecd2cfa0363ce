// Atomic writes: complete or untouched, never partial, nothing left behind.
#include "base/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::model {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

TEST(AtomicFileTest, WritesAndReplaces) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/w";
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/report.pb";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second version").ok());
  std::string got;
  ASSERT_TRUE(ReadFileToString(path, &got).ok());
  EXPECT_EQ(got, "second version");
  EXPECT_EQ(ListDir(dir).size(), 1u);
}

TEST(AtomicFileTest, FailureMidWriteLeavesTheOldFileAndNoTemporary) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/f";
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/report.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old complete contents").ok());
  const std::string big(1 << 20, 'x');
  absl::Status st = WriteFileAtomically(path, big, AtomicWriteOptions{/*fail_after_bytes=*/4096});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("report.json"), std::string::npos);
  std::string got;
  ASSERT_TRUE(ReadFileToString(path, &got).ok());
  EXPECT_EQ(got, "old complete contents");
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"report.json"});
  // A failed first write creates nothing.
  ASSERT_FALSE(WriteFileAtomically(dir + "/new.pb", big, AtomicWriteOptions{0}).ok());
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"report.json"});
}

TEST(AtomicFileTest, UnwritablePathsAreErrorsUpFront) {
  const std::string tmp = getenv("TEST_TMPDIR");
  absl::Status st = CheckWritable(tmp + "/no/such/dir/x.pb");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(CheckWritable(tmp).ok());  // a directory
  EXPECT_FALSE(CheckWritable("").ok());
  EXPECT_TRUE(CheckWritable(tmp + "/fine.pb").ok());
  EXPECT_FALSE(WriteFileAtomically(tmp + "/no/such/dir/x.pb", "x").ok());
}

}  // namespace
}  // namespace sinkscope::model

namespace sinkscope::model {
namespace {

TEST(MakeDirectoriesTest, CreatesParentsAndAcceptsExisting) {
  const std::string base = std::string(getenv("TEST_TMPDIR")) + "/mk";
  const std::string deep = base + "/a/b/c";
  ASSERT_TRUE(MakeDirectories(deep).ok());
  struct stat st;
  ASSERT_EQ(stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(MakeDirectories(deep).ok());  // already there
  // A file in the way is an error naming the path.
  ASSERT_TRUE(WriteFileAtomically(base + "/file", "x").ok());
  absl::Status s = MakeDirectories(base + "/file/sub");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(base + "/file/sub"), std::string::npos) << s;
}

}  // namespace
}  // namespace sinkscope::model
