// File: text/added_vocabulary.h
//
// added_vocabulary.h: the "added_tokens" of a tokenizer.json (special tokens such as <s> or
// <|endoftext|>, and other added tokens), found in the text before the model runs: leftmost, then
// longest, honouring lstrip / rstrip (the white space beside the token is swallowed) and
// single_word (not inside a word). Tokens with normalized=false are matched in the raw text,
// those with normalized=true in the normalized text.
//
// Example:
//   std::vector<Segment> s = vocab.Split("a<s>b", /*normalized=*/false);
//   // {"a", -1}, {"<s>", 1}, {"b", -1}
#ifndef SINKSCOPE_TEXT_ADDED_VOCABULARY_H_
#define SINKSCOPE_TEXT_ADDED_VOCABULARY_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json.h"

namespace sinkscope::text {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool single_word = false;
};

// A piece of text: an added token (id >= 0) or text for the model (id -1).
struct Segment {
  std::string text;
  int32_t id = -1;
};

class AddedVocabulary {
 public:
  // From the tokenizer.json "added_tokens" array (absent: none). `match_special`: false when
  // special tokens are to be encoded as plain text (tokenizer_config's split_special_tokens).
  static absl::StatusOr<AddedVocabulary> FromJson(const model::JsonValue* json, bool match_special);

  // Splits `text` at the tokens whose `normalized` flag equals `normalized`.
  std::vector<Segment> Split(absl::string_view text, bool normalized) const;

  const AddedToken* Find(int32_t id) const;
  int32_t max_id() const { return max_id_; }

 private:
  // Index into tokens_ of the longest token matching at text[pos] (or -1).
  int FindAt(absl::string_view text, size_t pos, bool normalized) const;

  std::vector<AddedToken> tokens_;
  absl::flat_hash_map<int32_t, size_t> by_id_;
  // Candidates per first byte, longest first.
  std::array<std::vector<int>, 256> by_first_byte_;
  int32_t max_id_ = -1;
};

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_ADDED_VOCABULARY_H_
