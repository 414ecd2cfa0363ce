// memory_checkpoint.h: an in-memory checkpoint of random tensors for the forward-pass tests: a
// TensorSource for model::Transformer and the same values in double for the naive oracles.
#ifndef SINKSCOPE_TESTS_MODEL_MEMORY_CHECKPOINT_H_
#define SINKSCOPE_TESTS_MODEL_MEMORY_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/dtype.h"
#include "model/transformer.h"

namespace sinkscope::model::test_support {

using Mat = std::vector<std::vector<double>>;  // [rows][cols]

struct Stored {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string bytes;
};

class MemoryCheckpoint {
 public:
  MemoryCheckpoint(DType dtype, uint32_t seed) : dtype_(dtype), rng_(seed) {}

  // Uniform in [center - scale, center + scale], stored in the checkpoint's dtype (or `dtype`
  // when use_dtype; other dtypes than F32/BF16 get a byte ramp).
  void Add(const std::string& name, std::vector<int64_t> shape, double scale,
           double center = 0.0, DType dtype = DType::kF32, bool use_dtype = false) {
    Stored s;
    s.dtype = use_dtype ? dtype : dtype_;
    s.shape = shape;
    int64_t n = 1;
    for (int64_t x : shape) n *= x;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float v = static_cast<float>(center + scale * u(rng_));
      if (s.dtype == DType::kF32) {
        s.bytes.append(reinterpret_cast<const char*>(&v), 4);
      } else if (s.dtype == DType::kBF16) {
        const uint16_t b = FloatToBf16(v);
        s.bytes.append(reinterpret_cast<const char*>(&b), 2);
      } else {
        s.bytes.push_back(static_cast<char>(i & 0xff));
      }
    }
    tensors_[name] = std::move(s);
  }
  void Erase(const std::string& name) { tensors_.erase(name); }
  void Reshape(const std::string& name, std::vector<int64_t> shape) {
    tensors_.at(name).shape = shape;
  }
  bool Has(const std::string& name) const { return tensors_.count(name) > 0; }
  const std::map<std::string, Stored>& tensors() const { return tensors_; }
  void AddRaw(const std::string& name, DType dtype, std::vector<int64_t> shape,
              std::string bytes) {
    tensors_[name] = Stored{dtype, std::move(shape), std::move(bytes)};
  }
  void AddF32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    AddRaw(name, DType::kF32, std::move(shape),
           std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }

  TensorSource Source() const {
    return [this](const std::string& name) -> absl::StatusOr<TypedTensorView> {
      auto it = tensors_.find(name);
      if (it == tensors_.end()) return absl::NotFoundError(name);
      return TypedTensorView{reinterpret_cast<const uint8_t*>(it->second.bytes.data()),
                             it->second.dtype, it->second.shape};
    };
  }

  std::vector<double> Values(const std::string& name) const {
    const Stored& s = tensors_.at(name);
    const int64_t n = static_cast<int64_t>(s.bytes.size()) / DTypeSize(s.dtype);
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) {
      v[i] = LoadAsDouble(reinterpret_cast<const uint8_t*>(s.bytes.data()), s.dtype, i);
    }
    return v;
  }
  // 2-D matrix, or slice `index` of a 3-D tensor.
  Mat Matrix(const std::string& name, int64_t index = -1) const {
    const Stored& s = tensors_.at(name);
    const std::vector<double> v = Values(name);
    const int64_t rows = index < 0 ? s.shape[0] : s.shape[1];
    const int64_t cols = index < 0 ? s.shape[1] : s.shape[2];
    const int64_t base = index < 0 ? 0 : index * rows * cols;
    Mat m(rows, std::vector<double>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) m[r][c] = v[base + r * cols + c];
    }
    return m;
  }

 private:
  DType dtype_;
  std::mt19937 rng_;
  std::map<std::string, Stored> tensors_;
};

}  // namespace sinkscope::model::test_support

#endif  // SINKSCOPE_TESTS_MODEL_MEMORY_CHECKPOINT_H_
