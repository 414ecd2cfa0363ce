// A bounded-time mutation fuzz of the checkpoint readers: random byte edits (flip, erase,
// insert, duplicate, digit runs, truncation) of several seed .safetensors files, of a sharded
// index JSON and of one of its shards, each opened through SafetensorsFile::Open or
// Checkpoint::Open. Every mutant must give an error or a valid checkpoint whose every tensor
// can be read end to end; never a crash (run it under --config=asan too). Budget: 20 s or
// 200000 mutations, whichever comes first (8 s under AddressSanitizer).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"

namespace sinkscope::model {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr double kBudgetSeconds = 8.0;
#else
constexpr double kBudgetSeconds = 20.0;
#endif
constexpr int kMaxMutations = 200000;

std::string Tmp(const std::string& name) { return std::string(getenv("TEST_TMPDIR")) + "/" + name; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteRaw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TensorToWrite Tensor(const std::string& name, DType dtype, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::string bytes(static_cast<size_t>(n * DTypeSize(dtype)), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  return {name, dtype, shape, bytes};
}

void Mutate(std::string* m, std::mt19937* rng) {
  const int edits = 1 + static_cast<int>((*rng)() % 4);
  for (int e = 0; e < edits && !m->empty(); ++e) {
    const size_t pos = (*rng)() % m->size();
    switch ((*rng)() % 7) {
      case 0:
        (*m)[pos] = static_cast<char>((*rng)());
        break;
      case 1:
        m->erase(pos, 1 + (*rng)() % 4);
        break;
      case 2:
        m->insert(pos, 1, static_cast<char>((*rng)()));
        break;
      case 3: {  // structural characters of JSON
        static const char kChars[] = "{}[]\",:0123456789-e.\\ ";
        (*m)[pos] = kChars[(*rng)() % (sizeof(kChars) - 1)];
        break;
      }
      case 4:  // a run of digits (big offsets, shapes, header lengths)
        m->insert(pos, std::string(1 + (*rng)() % 20, static_cast<char>('0' + (*rng)() % 10)));
        break;
      case 5: {  // duplicate a range
        const size_t len = 1 + (*rng)() % 16;
        m->insert(pos, m->substr(pos, len));
        break;
      }
      default:
        m->resize(pos);
        break;
    }
  }
}

// Reads every byte of every tensor (through the float chunk reader) of a valid checkpoint.
double Touch(const Checkpoint& c) {
  double sum = 0.0;
  for (const TensorInfo& t : c.tensors()) {
    ForEachFloatChunk(c.View(t), [&](const float* x, int64_t n, int64_t) {
      for (int64_t i = 0; i < n; ++i) sum += x[i] == x[i] ? 0.0 : 1.0;
    });
  }
  return sum;
}

struct Seed {
  std::string target;  // the file that gets mutated
  std::string open;    // what is opened afterwards
  bool checkpoint;     // Checkpoint::Open (else SafetensorsFile::Open)
  std::string bytes;
};

TEST(SafetensorsFuzzTest, MutantsGiveErrorsOrValidCheckpointsNeverCrashes) {
  std::vector<Seed> seeds;
  const std::string single = Tmp("seed-a.safetensors");
  ASSERT_TRUE(WriteSafetensors(single,
                               {Tensor("model.layers.0.w", DType::kF32, {3, 4}),
                                Tensor("b", DType::kBF16, {5}), Tensor("h", DType::kF16, {2, 2}),
                                Tensor("empty", DType::kF32, {0, 3}),
                                Tensor("i", DType::kI64, {2}), Tensor("u", DType::kU8, {3})},
                               {{"format", "pt"}, {"k", "v\"q"}})
                  .ok());
  seeds.push_back({single, single, false, Slurp(single)});
  const std::string small = Tmp("seed-b.safetensors");
  ASSERT_TRUE(WriteSafetensors(small, {Tensor("x", DType::kF64, {2})}).ok());
  seeds.push_back({small, small, true, Slurp(small)});
  const std::string dir = Tmp("sharded");
  mkdir(dir.c_str(), 0755);
  ASSERT_TRUE(WriteSafetensors(dir + "/s0.safetensors",
                               {Tensor("a", DType::kF32, {2, 2}), Tensor("b", DType::kBF16, {3})})
                  .ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/s1.safetensors", {Tensor("c", DType::kF16, {4})}).ok());
  const std::string index = dir + "/model.safetensors.index.json";
  ASSERT_TRUE(WriteFileAtomically(index, R"({"metadata": {"total_size": 30}, "weight_map": )"
                                         R"({"a": "s0.safetensors", "c": "s1.safetensors", )"
                                         R"("b": "s0.safetensors"}})")
                  .ok());
  ASSERT_TRUE(Checkpoint::Open(dir).ok());
  seeds.push_back({index, dir, true, Slurp(index)});
  seeds.push_back({dir + "/s1.safetensors", dir, true, Slurp(dir + "/s1.safetensors")});

  std::mt19937 rng(20240607);
  const auto start = std::chrono::steady_clock::now();
  int mutations = 0, rejected = 0, accepted = 0;
  double touched = 0.0;
  while (mutations < kMaxMutations) {
    if (mutations % 256 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
            kBudgetSeconds) {
      break;
    }
    const Seed& s = seeds[static_cast<size_t>(mutations) % seeds.size()];
    std::string m = s.bytes;
    Mutate(&m, &rng);
    WriteRaw(s.target, m);
    if (s.checkpoint) {
      absl::StatusOr<std::unique_ptr<Checkpoint>> c = Checkpoint::Open(s.open);
      if (c.ok()) {
        touched += Touch(**c);
        ++accepted;
      } else {
        ++rejected;
      }
    } else {
      absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open(s.open);
      if (f.ok()) {
        for (const TensorInfo& t : (*f)->tensors()) {
          ForEachFloatChunk((*f)->View(t), [&](const float* x, int64_t n, int64_t) {
            for (int64_t i = 0; i < n; ++i) touched += x[i] == x[i] ? 0.0 : 1.0;
          });
        }
        ++accepted;
      } else {
        ++rejected;
      }
    }
    ++mutations;
  }
  for (const Seed& s : seeds) WriteRaw(s.target, s.bytes);  // restore
  std::printf("%d mutations in %.1f s: %d rejected, %d accepted (%g non-finite values read)\n",
              mutations,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
              rejected, accepted, touched);
  EXPECT_GT(mutations, 1000);
  EXPECT_GT(rejected, mutations / 2);  // most corruptions are caught
}

}  // namespace
}  // namespace sinkscope::model
