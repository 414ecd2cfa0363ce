#include "text/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

#include "absl/strings/str_cat.h"

namespace sinkscope::text {

absl::Status ValidateUtf8(absl::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const int32_t n = static_cast<int32_t>(bytes.size());
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("text larger than 2 GiB");
  }
  int32_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    const int32_t at = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat("invalid UTF-8 at byte ", at));
  }
  return absl::OkStatus();
}

char32_t NextCodePoint(absl::string_view s, size_t* i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t b = p[*i];
  if (b < 0x80) {
    ++*i;
    return b;
  }
  int32_t j = static_cast<int32_t>(*i);
  UChar32 c;
  U8_NEXT_OR_FFFD(p, j, static_cast<int32_t>(s.size()), c);
  *i = static_cast<size_t>(j);
  return static_cast<char32_t>(c);
}

void AppendUtf8(char32_t cp, std::string* out) {
  uint8_t buf[4];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(buf, len, 4, static_cast<UChar32>(cp), error);
  if (error) return;
  out->append(reinterpret_cast<const char*>(buf), len);
}

bool IsWhiteSpace(char32_t cp) { return u_hasBinaryProperty(cp, UCHAR_WHITE_SPACE); }

bool IsNumeric(char32_t cp) {
  const int8_t t = u_charType(cp);
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool IsAlphanumeric(char32_t cp) { return u_isalpha(cp) || IsNumeric(cp); }

absl::StatusOr<std::string> Normalize(NormalizationForm form, absl::string_view utf8) {
  bool ascii = true;
  for (char c : utf8) ascii &= static_cast<uint8_t>(c) < 0x80;
  if (ascii) return std::string(utf8);  // every form leaves ASCII as it is
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalizationForm::kNfc: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalizationForm::kNfd: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalizationForm::kNfkc: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalizationForm::kNfkd: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status)) {
    return absl::InternalError(absl::StrCat("ICU normalizer: ", u_errorName(status)));
  }
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  const icu::UnicodeString out = n->normalize(in, status);
  if (U_FAILURE(status)) {
    return absl::InternalError(absl::StrCat("ICU normalize: ", u_errorName(status)));
  }
  std::string result;
  out.toUTF8String(result);
  return result;
}

namespace {

// Oniguruma's \s / \S are Unicode White_Space; ICU's are [\t\n\f\r\p{Z}]. Rewrites them (inside
// and outside character classes), leaving every other escape alone.
std::string TranslateOniguruma(absl::string_view p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's') {
        out += "\\p{White_Space}";
      } else if (e == 'S') {
        out += "\\P{White_Space}";
      } else {
        out.append(p.data() + i, 2);
      }
      ++i;
      continue;
    }
    out.push_back(p[i]);
  }
  return out;
}

}  // namespace

class Regex::Impl {
 public:
  explicit Impl(icu::RegexPattern* p) : pattern(p) {}
  std::unique_ptr<icu::RegexPattern> pattern;
};

Regex::Regex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(absl::string_view pattern) {
  const std::string translated = TranslateOniguruma(pattern);
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error;
  icu::RegexPattern* p = icu::RegexPattern::compile(
      icu::UnicodeString::fromUTF8(
          icu::StringPiece(translated.data(), static_cast<int32_t>(translated.size()))),
      0, parse_error, status);
  if (U_FAILURE(status)) {
    delete p;
    return absl::InvalidArgumentError(absl::StrCat("regex \"", pattern, "\" does not compile (",
                                                   u_errorName(status), " at offset ",
                                                   parse_error.offset, ")"));
  }
  return std::unique_ptr<Regex>(new Regex(std::make_unique<Impl>(p)));
}

Regex::~Regex() = default;

std::vector<ByteRange> Regex::FindAll(absl::string_view utf8) const {
  std::vector<ByteRange> matches;
  UErrorCode status = U_ZERO_ERROR;
  UText* text = utext_openUTF8(nullptr, utf8.data(), static_cast<int64_t>(utf8.size()), &status);
  std::unique_ptr<icu::RegexMatcher> m(impl_->pattern->matcher(status));
  if (U_FAILURE(status)) {
    utext_close(text);
    return matches;
  }
  m->reset(text);
  while (m->find(status) && U_SUCCESS(status)) {
    const int64_t b = m->start64(status);
    const int64_t e = m->end64(status);
    if (e > b) matches.push_back({static_cast<size_t>(b), static_cast<size_t>(e)});
  }
  m.reset();
  utext_close(text);
  return matches;
}

}  // namespace sinkscope::text
