#include "model/checkpoint.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"

namespace sinkscope::model {
namespace {

enum class PathKind { kMissing, kFile, kDirectory, kOther };

PathKind KindOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return PathKind::kMissing;
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  if (S_ISREG(st.st_mode)) return PathKind::kFile;
  return PathKind::kOther;
}

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return absl::EndsWith(dir, "/") ? dir + name : absl::StrCat(dir, "/", name);
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& path) {
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->path_ = path;
  std::string file = path;
  switch (KindOf(path)) {
    case PathKind::kMissing:
      return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    case PathKind::kOther:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": neither a regular file nor a directory"));
    case PathKind::kDirectory: {
      const std::string index = Join(path, kSafetensorsIndexName);
      const std::string single = Join(path, kSafetensorsSingleName);
      if (KindOf(index) == PathKind::kFile) {
        file = index;
      } else if (KindOf(single) == PathKind::kFile) {
        file = single;
      } else {
        return absl::NotFoundError(absl::StrCat(path, ": directory holds neither ",
                                                kSafetensorsIndexName, " nor ",
                                                kSafetensorsSingleName));
      }
      break;
    }
    case PathKind::kFile:
      break;
  }
  if (absl::EndsWith(file, ".json")) {
    if (absl::Status st = c->OpenIndex(file); !st.ok()) return st;
  } else {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open(file);
    if (!f.ok()) return f.status();
    c->shards_.push_back(*std::move(f));
    for (const TensorInfo& t : c->shards_[0]->tensors()) {
      c->index_[t.name] = c->tensors_.size();
      c->tensors_.push_back(t);
      c->shard_of_.push_back(0);
      c->total_bytes_ += t.end - t.begin;
    }
  }
  return c;
}

absl::Status Checkpoint::OpenIndex(const std::string& index_path) {
  index_path_ = index_path;
  const auto fail = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, ": ", what));
  };
  std::string text;
  if (absl::Status st = ReadFileToString(index_path, &text, kMaxIndexBytes); !st.ok()) return st;
  absl::StatusOr<JsonValue> json = ParseJson(text);
  if (!json.ok()) return fail(absl::StrCat("index JSON: ", json.status().message()));
  if (!json->is_object()) return fail("index is not a JSON object");
  const JsonValue* metadata = json->Find("metadata");
  if (metadata != nullptr && !metadata->is_object() && !metadata->is_null()) {
    return fail("'metadata' is not an object");
  }
  const JsonValue* weight_map = json->Find("weight_map");
  if (weight_map == nullptr || !weight_map->is_object()) {
    return fail("missing object 'weight_map'");
  }
  // Shards in order of first appearance; tensor -> shard position.
  std::vector<std::string> shard_names;
  std::map<std::string, size_t> shard_position;
  std::map<std::string, size_t> listed;  // tensor -> shard position
  for (const auto& [tensor, shard] : weight_map->object()) {
    if (!shard.is_string() || shard.string_value().empty()) {
      return fail(absl::StrCat("weight_map[\"", tensor, "\"] is not a shard file name"));
    }
    const std::string& name = shard.string_value();
    if (name[0] == '/') {
      return fail(absl::StrCat("weight_map[\"", tensor, "\"]: shard '", name,
                               "' is absolute; shards are relative to the index"));
    }
    auto [it, inserted] = shard_position.emplace(name, shard_names.size());
    if (inserted) shard_names.push_back(name);
    listed[tensor] = it->second;
  }
  const std::string dir = DirName(index_path);
  for (size_t s = 0; s < shard_names.size(); ++s) {
    const std::string shard_path = Join(dir, shard_names[s]);
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> f = SafetensorsFile::Open(shard_path);
    if (!f.ok()) {
      return fail(absl::StrCat("shard '", shard_names[s], "' cannot be opened: ",
                               f.status().message()));
    }
    shards_.push_back(*std::move(f));
  }
  // Every listed tensor is in its shard.
  for (const auto& [tensor, s] : listed) {
    if (shards_[s]->Find(tensor) == nullptr) {
      return fail(absl::StrCat("tensor '", tensor, "' is listed for shard '", shard_names[s],
                               "' but is missing from it"));
    }
  }
  // Every tensor of a shard is listed, for that shard.
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (const TensorInfo& t : shards_[s]->tensors()) {
      auto it = listed.find(t.name);
      if (it == listed.end()) {
        return fail(absl::StrCat("tensor '", t.name, "' of shard '", shard_names[s],
                                 "' is not listed in the weight_map"));
      }
      if (it->second != s) {
        return fail(absl::StrCat("tensor '", t.name, "' is in two shards: '",
                                 shard_names[it->second], "' (per the weight_map) and '",
                                 shard_names[s], "'"));
      }
      index_[t.name] = tensors_.size();
      tensors_.push_back(t);
      shard_of_.push_back(s);
      total_bytes_ += t.end - t.begin;
    }
  }
  return absl::OkStatus();
}

const TensorInfo* Checkpoint::Find(absl::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const SafetensorsFile* Checkpoint::ShardOf(absl::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : shards_[shard_of_[it->second]].get();
}

TypedTensorView Checkpoint::View(const TensorInfo& t) const {
  size_t i;
  if (!tensors_.empty() && &t >= tensors_.data() && &t < tensors_.data() + tensors_.size()) {
    i = static_cast<size_t>(&t - tensors_.data());
  } else {
    auto it = index_.find(t.name);
    if (it == index_.end()) return TypedTensorView{nullptr, t.dtype, t.shape};
    i = it->second;
  }
  return shards_[shard_of_[i]]->View(tensors_[i]);
}

absl::StatusOr<TypedTensorView> Checkpoint::View(absl::string_view name) const {
  const TensorInfo* t = Find(name);
  if (t == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor '", name, "'"));
  }
  return View(*t);
}

std::vector<std::string> Checkpoint::files() const {
  std::vector<std::string> out;
  for (const auto& s : shards_) out.push_back(s->path());
  return out;
}

}  // namespace sinkscope::model
