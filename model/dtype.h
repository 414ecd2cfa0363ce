// File: model/dtype.h
//
// dtype.h: the element types of checkpoint tensors (safetensors names), their sizes, half and
// bfloat16 conversion, and a typed read-only view that statistics read in float chunks, so that
// a bf16 or fp16 tensor is never copied whole to float.
//
// Example:
//   TypedTensorView v{data, DType::kBF16, {4096, 11008}};
//   ForEachFloatChunk(v, [&](const float* x, int64_t n, int64_t offset) { stats.Add(x, n); });
#ifndef SINKSCOPE_MODEL_DTYPE_H_
#define SINKSCOPE_MODEL_DTYPE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::model {

enum class DType { kF32, kF16, kBF16, kF64, kI8, kU8, kI32, kI64 };

// "F32" -> kF32 etc. (the safetensors spelling). Errors name the unsupported dtype.
absl::StatusOr<DType> ParseDType(absl::string_view name);
const char* DTypeName(DType dtype);
int DTypeSize(DType dtype);

// IEEE 754 binary16 -> float (exact: every half is a float).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // Inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // normal: rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: value = mant * 2^-24; normalise into a float.
    uint32_t m = mant;
    int e = -1;
    do {
      ++e;
      m <<= 1;
    } while ((m & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((m & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// bfloat16 -> float: the upper 16 bits of a float.
inline float Bf16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// float -> bfloat16, round to nearest even (NaN stays NaN).
uint16_t FloatToBf16(float f);
// float -> binary16, round to nearest even, overflow to Inf.
uint16_t FloatToHalf(float f);

// Little-endian element `index` of `data` as double.
double LoadAsDouble(const uint8_t* data, DType dtype, int64_t index);

// A read-only view of little-endian tensor data in its file dtype.
struct TypedTensorView {
  const uint8_t* data = nullptr;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;

  int64_t size() const;
};

// Calls fn(const float* values, int64_t count, int64_t offset) over consecutive chunks of at most
// kChunk elements, converted to float (F64 and I64 are rounded to float).
inline constexpr int64_t kFloatChunk = 4096;
template <typename Fn>
void ForEachFloatChunk(const TypedTensorView& v, Fn&& fn) {
  const int64_t n = v.size();
  float buf[kFloatChunk];
  for (int64_t off = 0; off < n; off += kFloatChunk) {
    const int64_t len = n - off < kFloatChunk ? n - off : kFloatChunk;
    if (v.dtype == DType::kF32) {
      std::memcpy(buf, v.data + off * 4, len * 4);  // data may be unaligned in a mapped file
    } else if (v.dtype == DType::kBF16 || v.dtype == DType::kF16) {
      for (int64_t i = 0; i < len; ++i) {
        uint16_t h;
        std::memcpy(&h, v.data + (off + i) * 2, 2);
        buf[i] = v.dtype == DType::kBF16 ? Bf16ToFloat(h) : HalfToFloat(h);
      }
    } else {
      for (int64_t i = 0; i < len; ++i) {
        buf[i] = static_cast<float>(LoadAsDouble(v.data, v.dtype, off + i));
      }
    }
    fn(static_cast<const float*>(buf), len, off);
  }
}

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_DTYPE_H_
