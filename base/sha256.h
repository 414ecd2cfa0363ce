// File: base/sha256.h
//
// sha256.h: SHA-256 (FIPS 180-4) of bytes and of files, as lowercase hex. Used to record which
// tokenizer file a report's ids came from.
//
// Example:
//   std::string h = Sha256Hex("abc");  // "ba7816bf...f20015ad"
//   absl::StatusOr<std::string> f = Sha256OfFile("/models/m/tokenizer.json");
#ifndef SINKSCOPE_BASE_SHA256_H_
#define SINKSCOPE_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::model {

// Incremental hashing: Update any number of times, then Finish once.
class Sha256 {
 public:
  Sha256();
  void Update(absl::string_view bytes);
  std::array<uint8_t, 32> Finish();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string Sha256Hex(absl::string_view bytes);

// The file's SHA-256 as hex, or an error naming it.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace sinkscope::model

#endif  // SINKSCOPE_BASE_SHA256_H_
