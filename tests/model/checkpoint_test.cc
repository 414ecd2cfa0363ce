// Checkpoint: a single file, a directory, a 3-shard index (order, views into the right shard,
// totals), and every index violation as an error naming the index, the shard and the tensor.
#include "model/checkpoint.h"

#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"

namespace sinkscope::model {
namespace {

std::string TmpDir(const std::string& name) {
  const std::string dir = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

TensorToWrite F32(const std::string& name, std::vector<float> v) {
  return {name, DType::kF32, {static_cast<int64_t>(v.size())},
          std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4)};
}

float First(const TypedTensorView& v) { return static_cast<float>(LoadAsDouble(v.data, v.dtype, 0)); }

// Shards: a = {w0, w1}, b = {w2}, c = {w3, w4}; value of wi is i.
void WriteThreeShards(const std::string& dir) {
  ASSERT_TRUE(WriteSafetensors(dir + "/a.safetensors", {F32("w1", {1, 1}), F32("w0", {0})}).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/b.safetensors", {F32("w2", {2, 2, 2})}).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/c.safetensors", {F32("w3", {3}), F32("w4", {4})}).ok());
}

void WriteIndex(const std::string& dir, const std::string& weight_map) {
  ASSERT_TRUE(WriteFileAtomically(dir + "/model.safetensors.index.json",
                                  R"({"metadata": {"total_size": 32}, "weight_map": {)" +
                                      weight_map + "}}")
                  .ok());
}

const char kGoodMap[] =
    R"("w2": "b.safetensors", "w0": "a.safetensors", "w1": "a.safetensors",
       "w4": "c.safetensors", "w3": "c.safetensors")";

TEST(CheckpointTest, SingleFileAndDirectory) {
  const std::string dir = TmpDir("single");
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", {F32("x", {5, 6}), F32("y", {7})}).ok());
  for (const std::string& path : {dir, dir + "/", dir + "/model.safetensors"}) {
    SCOPED_TRACE(path);
    absl::StatusOr<std::unique_ptr<Checkpoint>> c = Checkpoint::Open(path);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ((*c)->tensors().size(), 2u);
    EXPECT_EQ((*c)->tensors()[0].name, "x");
    EXPECT_EQ((*c)->total_bytes(), 12u);
    ASSERT_EQ((*c)->files().size(), 1u);
    EXPECT_EQ((*c)->index_path(), "");
    absl::StatusOr<TypedTensorView> y = (*c)->View("y");
    ASSERT_TRUE(y.ok());
    EXPECT_EQ(First(*y), 7.0f);
    EXPECT_FALSE((*c)->View("z").ok());
    EXPECT_EQ((*c)->Find("z"), nullptr);
  }
}

TEST(CheckpointTest, ThreeShardIndex) {
  const std::string dir = TmpDir("sharded");
  WriteThreeShards(dir);
  WriteIndex(dir, kGoodMap);
  // Also a single file beside it: the index is preferred.
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", {F32("other", {9})}).ok());
  for (const std::string& path : {dir, dir + "/model.safetensors.index.json"}) {
    SCOPED_TRACE(path);
    absl::StatusOr<std::unique_ptr<Checkpoint>> c = Checkpoint::Open(path);
    ASSERT_TRUE(c.ok()) << c.status();
    // Shard order of first appearance (b, a, c), then data order within each shard.
    std::vector<std::string> names;
    for (const TensorInfo& t : (*c)->tensors()) names.push_back(t.name);
    EXPECT_EQ(names, (std::vector<std::string>{"w2", "w1", "w0", "w3", "w4"}));
    EXPECT_EQ((*c)->total_bytes(), 32u);
    ASSERT_EQ((*c)->files().size(), 3u);
    EXPECT_NE((*c)->files()[0].find("b.safetensors"), std::string::npos);
    EXPECT_NE((*c)->index_path().find("index.json"), std::string::npos);
    for (const TensorInfo& t : (*c)->tensors()) {
      const float want = static_cast<float>(t.name[1] - '0');
      EXPECT_EQ(First((*c)->View(t)), want) << t.name;
      TensorInfo copy = t;  // a copy resolves by name
      EXPECT_EQ(First((*c)->View(copy)), want) << t.name;
      EXPECT_EQ(First(*(*c)->View(t.name)), want) << t.name;
    }
    EXPECT_EQ((*c)->Find("w2")->shape, (std::vector<int64_t>{3}));
    EXPECT_NE((*c)->ShardOf("w3")->path().find("c.safetensors"), std::string::npos);
    EXPECT_EQ((*c)->Find("other"), nullptr);
  }
}

struct BadIndex {
  const char* name;
  std::string weight_map;                 // inside {...}; ignored when raw is set
  std::string raw;                        // the whole index text
  std::vector<const char*> expected;      // substrings of the message
};

TEST(CheckpointTest, IndexViolationsAreNamedErrors) {
  const std::vector<BadIndex> cases = {
      {"missing_shard",
       std::string(kGoodMap) + R"(, "w9": "gone.safetensors")",
       "",
       {"gone.safetensors", "cannot be opened"}},
      {"tensor_missing_from_shard",
       std::string(kGoodMap) + R"(, "w9": "a.safetensors")",
       "",
       {"'w9'", "a.safetensors", "missing"}},
      {"tensor_in_two_shards", "", "", {}},  // built below
      {"tensor_not_listed",
       R"("w2": "b.safetensors", "w0": "a.safetensors", "w4": "c.safetensors", "w3": "c.safetensors")",
       "",
       {"'w1'", "a.safetensors", "not listed"}},
      {"malformed_json", "", R"({"weight_map": {"w0": "a.safetensors",}})", {"index JSON"}},
      {"no_weight_map", "", R"({"metadata": {}})", {"weight_map"}},
      {"shard_not_a_string", "", R"({"weight_map": {"w0": 3}})", {"w0"}},
  };
  for (const BadIndex& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = TmpDir(c.name);
    WriteThreeShards(dir);
    std::vector<const char*> expected = c.expected;
    if (std::string(c.name) == "tensor_in_two_shards") {
      ASSERT_TRUE(WriteSafetensors(dir + "/c.safetensors",
                                   {F32("w3", {3}), F32("w4", {4}), F32("w0", {0})})
                      .ok());
      WriteIndex(dir, kGoodMap);
      expected = {"'w0'", "two shards", "a.safetensors", "c.safetensors"};
    } else if (!c.raw.empty()) {
      ASSERT_TRUE(WriteFileAtomically(dir + "/model.safetensors.index.json", c.raw).ok());
    } else {
      WriteIndex(dir, c.weight_map);
    }
    absl::Status st = Checkpoint::Open(dir).status();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("model.safetensors.index.json"), std::string::npos)
        << st.message();
    for (const char* e : expected) EXPECT_NE(st.message().find(e), std::string::npos) << st.message();
  }
}

TEST(CheckpointTest, DirectoryWithNeitherFileAndMissingPaths) {
  const std::string dir = TmpDir("empty");
  absl::Status st = Checkpoint::Open(dir).status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("neither"), std::string::npos) << st.message();
  st = Checkpoint::Open(dir + "/nope.safetensors").status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope.safetensors"), std::string::npos) << st.message();
  // A corrupt shard's error names the index, the shard and the shard's own problem.
  const std::string bad = TmpDir("corrupt_shard");
  WriteThreeShards(bad);
  ASSERT_TRUE(WriteFileAtomically(bad + "/b.safetensors", "garbage!garbage!").ok());
  WriteIndex(bad, kGoodMap);
  st = Checkpoint::Open(bad).status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("b.safetensors"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("index.json"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace sinkscope::model
