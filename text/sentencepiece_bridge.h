// File: text/sentencepiece_bridge.h
//
// sentencepiece_bridge.h: internal to text/ (do not depend on this). libsentencepiece 0.1.97's
// header declares `absl::string_view` as std::string_view, which clashes with Abseil's own; this
// header and its .cc include neither Abseil nor each other's types, so the two never meet in one
// translation unit.
#ifndef SINKSCOPE_TEXT_SENTENCEPIECE_BRIDGE_H_
#define SINKSCOPE_TEXT_SENTENCEPIECE_BRIDGE_H_

#include <memory>
#include <string>
#include <vector>

namespace sinkscope::text::internal {

class SpmModel {
 public:
  // nullptr and *error on failure.
  static std::unique_ptr<SpmModel> Load(const std::string& path, std::string* error);
  ~SpmModel();
  bool Encode(const std::string& text, std::vector<int>* ids, std::string* error) const;
  bool Decode(const std::vector<int>& ids, std::string* text, std::string* error) const;
  int piece_size() const;
  int bos_id() const;  // -1: none
  int eos_id() const;
  bool IsControl(int id) const;

 private:
  struct Impl;
  explicit SpmModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sinkscope::text::internal

#endif  // SINKSCOPE_TEXT_SENTENCEPIECE_BRIDGE_H_
