// The safetensors reader: round trips through the writer, every validation rule on crafted
// headers, and random corruptions that must give an error, never a crash.
#include "model/safetensors.h"

#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace sinkscope::model {
namespace {

std::string TmpPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

std::string Bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// A raw file: 8-byte little-endian header length, header, data.
std::string RawFile(const std::string& header, const std::string& data) {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

absl::Status OpenRaw(const std::string& header, const std::string& data) {
  const std::string path = TmpPath("raw.safetensors");
  WriteRaw(path, RawFile(header, data));
  return SafetensorsFile::Open(path).status();
}

TEST(SafetensorsTest, RoundTripsThroughTheWriter) {
  std::vector<TensorToWrite> ts;
  ts.push_back({"a.weight", DType::kF32, {2, 3}, Bytes({1, 2, 3, 4, 5, 6})});
  std::string bf(4, '\0');
  const uint16_t b0 = FloatToBf16(1.5f), b1 = FloatToBf16(-2.0f);
  std::memcpy(&bf[0], &b0, 2);
  std::memcpy(&bf[2], &b1, 2);
  ts.push_back({"b", DType::kBF16, {2}, bf});
  ts.push_back({"empty", DType::kF16, {0, 4}, ""});
  const std::string path = TmpPath("ok.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, ts, {{"format", "pt"}}).ok());
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ((*f)->tensors().size(), 3u);
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  const TensorInfo* a = (*f)->Find("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  TypedTensorView v = (*f)->View(*a);
  EXPECT_EQ(LoadAsDouble(v.data, v.dtype, 5), 6.0);
  TypedTensorView vb = (*f)->View(*(*f)->Find("b"));
  EXPECT_EQ(LoadAsDouble(vb.data, vb.dtype, 0), 1.5);
  EXPECT_EQ(LoadAsDouble(vb.data, vb.dtype, 1), -2.0);
  EXPECT_EQ((*f)->Find("nope"), nullptr);
}

struct BadCase {
  const char* what;      // expected in the message
  std::string header;
  std::string data;
};

TEST(SafetensorsTest, EveryViolationIsANamedError) {
  const std::string d8(8, '\0');
  const std::vector<BadCase> cases = {
      {"not a JSON object", "[1]", ""},
      {"JSON", "{\"a\":", ""},
      {"dtype 'F8'", R"({"t":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", std::string(1, 0)},
      {"beyond the data section", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       std::string(4, 0)},
      {"needs 8", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", std::string(4, 0)},
      {"overlaps", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       d8},
      {"hole", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8},
      {"trailing bytes", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8},
      {"duplicate key \"t\"", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       d8},
      {"non-negative", R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, 0)},
      {"missing string 'dtype'", R"({"t":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, 0)},
      {"[begin, end]", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", std::string(4, 0)},
      {"reversed", R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", std::string(4, 0)},
      {"unknown field", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", std::string(4, 0)},
      {"__metadata__", R"({"__metadata__":{"a":1}})", ""},
      {"shape overflows", R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", std::string(4, 0)},
  };
  for (const BadCase& c : cases) {
    absl::Status st = OpenRaw(c.header, c.data);
    ASSERT_FALSE(st.ok()) << c.what;
    EXPECT_NE(st.message().find(c.what), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("raw.safetensors"), std::string::npos) << st.message();
  }
  // Tensor-specific errors name the tensor.
  absl::Status st = OpenRaw(R"({"w.q":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}})",
                            std::string(4, 0));
  EXPECT_NE(st.message().find("tensor 'w.q'"), std::string::npos) << st.message();
}

TEST(SafetensorsTest, HeaderLengthIsBounded) {
  const std::string path = TmpPath("huge.safetensors");
  std::string bytes(16, '\0');
  const uint64_t n = 200ull * 1000 * 1000;  // 200 MB claimed
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  WriteRaw(path, bytes);
  absl::Status st = SafetensorsFile::Open(path).status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("100 MB"), std::string::npos) << st.message();
  bytes[3] = 0;  // 200e6 & 0xffffff: small but beyond the 16-byte file
  for (int i = 3; i < 8; ++i) bytes[i] = 0;
  bytes[0] = 100;
  WriteRaw(path, bytes);
  st = SafetensorsFile::Open(path).status();
  EXPECT_NE(st.message().find("exceeds the file"), std::string::npos) << st.message();
  WriteRaw(path, "abc");
  EXPECT_FALSE(SafetensorsFile::Open(path).ok());
  EXPECT_FALSE(SafetensorsFile::Open(TmpPath("does-not-exist")).ok());
}

TEST(SafetensorsTest, RandomCorruptionsNeverCrash) {
  std::vector<TensorToWrite> ts;
  ts.push_back({"x", DType::kF32, {4, 4}, Bytes(std::vector<float>(16, 1.0f))});
  ts.push_back({"y", DType::kF16, {3}, std::string(6, '\x3c')});
  const std::string good_path = TmpPath("good.safetensors");
  ASSERT_TRUE(WriteSafetensors(good_path, ts).ok());
  std::ifstream in(good_path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(7);
  const std::string path = TmpPath("mutant.safetensors");
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string m = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % m.size();
      switch (rng() % 3) {
        case 0:
          m[pos] = static_cast<char>(rng());
          break;
        case 1:
          m.erase(pos, 1);
          break;
        default:
          m.insert(pos, 1, static_cast<char>(rng()));
      }
    }
    WriteRaw(path, m);
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open(path);
    if (!f.ok()) {
      ++rejected;
      continue;
    }
    // Whatever was accepted must be readable in bounds.
    for (const TensorInfo& t : (*f)->tensors()) {
      TypedTensorView v = (*f)->View(t);
      double s = 0.0;
      for (int64_t k = 0; k < v.size(); ++k) s += LoadAsDouble(v.data, v.dtype, k);
      (void)s;
    }
  }
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace sinkscope::model
