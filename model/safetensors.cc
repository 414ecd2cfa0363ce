#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "base/json.h"

namespace sinkscope::model {
namespace {

// a * b without overflow past int64, else error.
bool MulOk(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      absl::StrAppend(&out, "\\u00", u < 0x10 ? "0" : "", absl::Hex(u));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

SafetensorsFile::~SafetensorsFile() {
  if (base_ != nullptr && size_ > 0) munmap(const_cast<uint8_t*>(base_), size_);
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  f->size_ = static_cast<uint64_t>(st.st_size);
  if (f->size_ < 8) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", f->size_, " bytes, too short for a safetensors header"));
  }
  void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(path, ": mmap failed: ", std::strerror(errno)));
  }
  f->base_ = static_cast<const uint8_t*>(p);
  if (absl::Status st2 = f->Parse(); !st2.ok()) return st2;
  return f;
}

absl::Status SafetensorsFile::Parse() {
  const auto fail = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", what));
  };
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base_[i];
  if (n > kMaxSafetensorsHeaderBytes) {
    return fail(absl::StrCat("header length ", n, " exceeds the 100 MB limit"));
  }
  if (n > size_ - 8) {
    return fail(absl::StrCat("header length ", n, " exceeds the file (", size_, " bytes)"));
  }
  data_start_ = 8 + n;
  const uint64_t data_bytes = size_ - data_start_;
  absl::StatusOr<JsonValue> header = ParseJson(
      absl::string_view(reinterpret_cast<const char*>(base_ + 8), static_cast<size_t>(n)));
  if (!header.ok()) return fail(absl::StrCat("header: ", header.status().message()));
  if (!header->is_object()) return fail("header is not a JSON object");

  for (const auto& [name, v] : header->object()) {
    if (name == "__metadata__") {
      if (!v.is_object()) return fail("__metadata__ is not an object");
      for (const auto& [k, mv] : v.object()) {
        if (!mv.is_string()) return fail(absl::StrCat("__metadata__[\"", k, "\"] is not a string"));
        metadata_[k] = mv.string_value();
      }
      continue;
    }
    const auto tfail = [&](absl::string_view what) {
      return fail(absl::StrCat("tensor '", name, "': ", what));
    };
    if (!v.is_object()) return tfail("entry is not an object");
    for (const auto& [k, unused] : v.object()) {
      if (k != "dtype" && k != "shape" && k != "data_offsets") {
        return tfail(absl::StrCat("unknown field '", k, "'"));
      }
    }
    const JsonValue* dtype = v.Find("dtype");
    const JsonValue* shape = v.Find("shape");
    const JsonValue* offsets = v.Find("data_offsets");
    if (dtype == nullptr || !dtype->is_string()) return tfail("missing string 'dtype'");
    if (shape == nullptr || !shape->is_array()) return tfail("missing array 'shape'");
    if (offsets == nullptr || !offsets->is_array() || offsets->array().size() != 2) {
      return tfail("'data_offsets' must be [begin, end]");
    }
    TensorInfo t;
    t.name = name;
    absl::StatusOr<DType> d = ParseDType(dtype->string_value());
    if (!d.ok()) return tfail(d.status().message());
    t.dtype = *d;
    uint64_t elements = 1;
    for (const JsonValue& dim : shape->array()) {
      absl::StatusOr<int64_t> x = dim.AsInt64();
      if (!x.ok() || *x < 0) return tfail("shape entries must be non-negative integers");
      t.shape.push_back(*x);
      if (!MulOk(elements, static_cast<uint64_t>(*x), &elements)) return tfail("shape overflows");
    }
    absl::StatusOr<int64_t> b = offsets->array()[0].AsInt64();
    absl::StatusOr<int64_t> e = offsets->array()[1].AsInt64();
    if (!b.ok() || !e.ok() || *b < 0 || *e < 0) {
      return tfail("data_offsets must be non-negative integers");
    }
    t.begin = static_cast<uint64_t>(*b);
    t.end = static_cast<uint64_t>(*e);
    if (t.begin > t.end) return tfail(absl::StrCat("data_offsets [", t.begin, ", ", t.end, "] reversed"));
    if (t.end > data_bytes) {
      return tfail(absl::StrCat("data_offsets end ", t.end, " beyond the data section (",
                                data_bytes, " bytes)"));
    }
    uint64_t bytes = 0;
    if (!MulOk(elements, static_cast<uint64_t>(DTypeSize(t.dtype)), &bytes) ||
        bytes != t.end - t.begin) {
      return tfail(absl::StrCat("holds ", t.end - t.begin, " bytes but ", DTypeName(t.dtype),
                                " x [", absl::StrJoin(t.shape, ", "), "] needs ", bytes));
    }
    index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }
  // Non-overlapping, no holes, covering the data section.
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const TensorInfo& t : tensors_) {
    if (t.begin < expected) {
      return fail(absl::StrCat("tensor '", t.name, "' overlaps the previous tensor (begins at ",
                               t.begin, ", previous ends at ", expected, ")"));
    }
    if (t.begin > expected) {
      return fail(absl::StrCat("hole in the data section before tensor '", t.name, "' (bytes ",
                               expected, " to ", t.begin, ")"));
    }
    expected = t.end;
  }
  if (expected != data_bytes) {
    return fail(absl::StrCat("data section has ", data_bytes - expected,
                             " trailing bytes not covered by any tensor"));
  }
  index_.clear();
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  return absl::OkStatus();
}

const TensorInfo* SafetensorsFile::Find(absl::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

TypedTensorView SafetensorsFile::View(const TensorInfo& t) const {
  return TypedTensorView{base_ + data_start_ + t.begin, t.dtype, t.shape};
}

absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  uint64_t offset = 0;
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first_meta = true;
    for (const auto& [k, v] : metadata) {
      absl::StrAppend(&header, first_meta ? "" : ",", JsonQuote(k), ":", JsonQuote(v));
      first_meta = false;
    }
    header += "}";
    first = false;
  }
  for (const TensorToWrite& t : tensors) {
    uint64_t elements = 1;
    for (int64_t d : t.shape) elements *= static_cast<uint64_t>(d);
    if (elements * DTypeSize(t.dtype) != t.bytes.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": tensor '", t.name, "' has ", t.bytes.size(), " bytes, dtype x shape needs ",
          elements * DTypeSize(t.dtype)));
    }
    absl::StrAppend(&header, first ? "" : ",", JsonQuote(t.name), ":{\"dtype\":\"",
                    DTypeName(t.dtype), "\",\"shape\":[", absl::StrJoin(t.shape, ","),
                    "],\"data_offsets\":[", offset, ",", offset + t.bytes.size(), "]}");
    offset += t.bytes.size();
    first = false;
  }
  header += "}";
  // The reference pads the header with spaces to a multiple of 8 bytes.
  while (header.size() % 8 != 0) header.push_back(' ');
  std::string out;
  out.reserve(8 + header.size() + offset);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += header;
  for (const TensorToWrite& t : tensors) out += t.bytes;
  return WriteFileAtomically(path, out);
}

}  // namespace sinkscope::model
