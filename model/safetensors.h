// File: model/safetensors.h
//
// safetensors.h: a memory-mapped, zero-copy reader of one .safetensors file, validated as
// strictly as the format's reference implementation: 8-byte little-endian header length (at most
// 100 MB), a JSON object header of tensors {"dtype", "shape", "data_offsets": [begin, end]} and
// an optional "__metadata__" (string -> string), then the data section. Offsets are relative to
// the data section, in bounds, non-overlapping, and cover it without holes; each tensor's byte
// size equals its dtype size times the product of its shape; names are unique.
// Every violation is an absl::Status naming the file (and the tensor).
//
// Example:
//   absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open("model.safetensors");
//   for (const TensorInfo& t : (*f)->tensors()) {
//     model::TypedTensorView v = (*f)->View(t);   // points into the mapping
//   }
#ifndef SINKSCOPE_MODEL_SAFETENSORS_H_
#define SINKSCOPE_MODEL_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/dtype.h"

namespace sinkscope::model {

inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull * 1000 * 1000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets within the data section
  uint64_t end = 0;
};

class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  // Tensors in data-section order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // nullptr when absent.
  const TensorInfo* Find(absl::string_view name) const;
  // Zero-copy view into the mapping (valid while this object lives).
  TypedTensorView View(const TensorInfo& t) const;
  uint64_t file_bytes() const { return size_; }

 private:
  SafetensorsFile() = default;
  absl::Status Parse();

  std::string path_;
  const uint8_t* base_ = nullptr;  // mapping of the whole file
  uint64_t size_ = 0;
  uint64_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes a .safetensors file (for tests and for train/): tensors in the given order, packed
// contiguously. Atomic (temp file + rename). Errors: sizes not matching dtype x shape, I/O.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string bytes;  // little-endian data
};
absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_SAFETENSORS_H_
