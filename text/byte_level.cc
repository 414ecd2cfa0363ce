#include "text/byte_level.h"

#include <array>
#include <cstdint>

#include "text/unicode.h"

namespace sinkscope::text {
namespace {

struct Alphabet {
  std::array<char32_t, 256> char_of_byte;
  std::array<std::string, 256> utf8_of_byte;
  std::array<int16_t, 512> byte_of_char;  // code points below 512 only; -1: not in the alphabet
};

const Alphabet& GetAlphabet() {
  static const Alphabet* a = [] {
    auto* a = new Alphabet;
    a->byte_of_char.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
      a->char_of_byte[b] = c;
      AppendUtf8(c, &a->utf8_of_byte[b]);
      a->byte_of_char[c] = static_cast<int16_t>(b);
    }
    return a;
  }();
  return *a;
}

}  // namespace

std::string ByteLevelEncode(absl::string_view bytes) {
  const Alphabet& a = GetAlphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += a.utf8_of_byte[static_cast<uint8_t>(c)];
  return out;
}

std::string ByteLevelDecode(absl::string_view chars) {
  const Alphabet& a = GetAlphabet();
  std::string out;
  out.reserve(chars.size());
  size_t i = 0;
  while (i < chars.size()) {
    const size_t start = i;
    const char32_t c = NextCodePoint(chars, &i);
    if (c < 512 && a.byte_of_char[c] >= 0) {
      out.push_back(static_cast<char>(a.byte_of_char[c]));
    } else {
      out.append(chars.data() + start, i - start);
    }
  }
  return out;
}

}  // namespace sinkscope::text
