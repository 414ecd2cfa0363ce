// File: text/byte_level.h
//
// byte_level.h: GPT-2's byte-to-character alphabet, which byte-level BPE vocabularies are written
// in: the printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for themselves and the other
// 68 bytes for U+0100.. in byte order (so ' ' is 'Ġ', '\n' is 'Ċ'). Computed by that rule.
//
// Example:
//   std::string s = ByteLevelEncode("a b");   // "aĠb"
//   std::string b = ByteLevelDecode("aĠb");   // "a b"
#ifndef SINKSCOPE_TEXT_BYTE_LEVEL_H_
#define SINKSCOPE_TEXT_BYTE_LEVEL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sinkscope::text {

// Each byte as its character of the alphabet (UTF-8).
std::string ByteLevelEncode(absl::string_view bytes);
// The inverse; characters outside the alphabet are kept as their UTF-8 bytes.
std::string ByteLevelDecode(absl::string_view chars);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_BYTE_LEVEL_H_
