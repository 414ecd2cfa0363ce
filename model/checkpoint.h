// File: model/checkpoint.h
//
// checkpoint.h: one checkpoint, whatever its layout: a single .safetensors file, a sharded
// Hugging Face index (model.safetensors.index.json: {"metadata": {...}, "weight_map":
// {"tensor name": "shard file name", ...}}, shard names relative to the index's directory), or
// a directory holding either (the index is preferred when both exist). Every shard is opened
// and validated by SafetensorsFile; on top of that every tensor of the weight_map must exist in
// its shard, and every tensor of a shard must be listed in the weight_map, for that shard (a
// tensor in two shards is an error). Views are zero-copy into the right shard's mapping.
// Every error names the index, the shard and the tensor involved.
//
// Tensor order (stable): shards in order of first appearance in the weight_map, then each
// shard's tensors in data order.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Checkpoint>> c = Checkpoint::Open("/models/gpt-oss-20b");
//   for (const TensorInfo& t : (*c)->tensors()) {
//     TypedTensorView v = (*c)->View(t);   // valid while *c lives
//   }
#ifndef SINKSCOPE_MODEL_CHECKPOINT_H_
#define SINKSCOPE_MODEL_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/dtype.h"
#include "model/safetensors.h"

namespace sinkscope::model {

inline constexpr char kSafetensorsIndexName[] = "model.safetensors.index.json";
inline constexpr char kSafetensorsSingleName[] = "model.safetensors";
// Index files larger than this are rejected (real ones are well under 1 MB).
inline constexpr int64_t kMaxIndexBytes = 100ll * 1000 * 1000;

class Checkpoint {
 public:
  // `path`: a .safetensors file, an index JSON (any other regular file whose name ends in
  // ".json"), or a directory holding model.safetensors.index.json or model.safetensors.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& path);
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // The path as given to Open, and the index file ("" for a single file).
  const std::string& path() const { return path_; }
  const std::string& index_path() const { return index_path_; }
  // All tensors, in the stable order above.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorInfo* Find(absl::string_view name) const;
  // Zero-copy view. `t` must be one of tensors() (or a copy of one); an unknown tensor gives a
  // view with data == nullptr.
  TypedTensorView View(const TensorInfo& t) const;
  // NotFound naming the checkpoint when the tensor is absent.
  absl::StatusOr<TypedTensorView> View(absl::string_view name) const;
  // The shard holding tensor `name`, or nullptr.
  const SafetensorsFile* ShardOf(absl::string_view name) const;
  // Sum of the tensors' data bytes.
  uint64_t total_bytes() const { return total_bytes_; }
  // The safetensors files, in shard order (one for a single file).
  std::vector<std::string> files() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }

 private:
  Checkpoint() = default;
  absl::Status AddShardTensors(size_t shard);
  absl::Status OpenIndex(const std::string& index_path);

  std::string path_;
  std::string index_path_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<TensorInfo> tensors_;
  std::vector<size_t> shard_of_;         // parallel to tensors_
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  uint64_t total_bytes_ = 0;
};

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_CHECKPOINT_H_
