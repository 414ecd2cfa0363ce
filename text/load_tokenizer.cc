#include "text/load_tokenizer.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/sha256.h"
#include "text/hf_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

bool IsDirectory(const std::string& p) {
  struct stat s;
  return stat(p.c_str(), &s) == 0 && S_ISDIR(s.st_mode);
}

bool IsFile(const std::string& p) {
  struct stat s;
  return stat(p.c_str(), &s) == 0 && S_ISREG(s.st_mode);
}

}  // namespace

absl::StatusOr<std::string> ResolveTokenizerPath(const std::string& path) {
  if (IsDirectory(path)) {
    const std::string base = absl::EndsWith(path, "/") ? path : path + "/";
    for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
      if (IsFile(base + name)) return base + name;
    }
    return absl::NotFoundError(
        absl::StrCat(path, ": holds neither tokenizer.json nor tokenizer.model"));
  }
  if (!IsFile(path)) return absl::NotFoundError(absl::StrCat(path, ": no such tokenizer file"));
  return path;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path,
                                                         std::string* resolved) {
  absl::StatusOr<std::string> file = ResolveTokenizerPath(path);
  if (!file.ok()) return file.status();
  if (resolved != nullptr) *resolved = *file;
  if (absl::EndsWith(*file, ".model")) return LoadSentencePieceTokenizer(*file);
  if (absl::EndsWith(*file, ".json")) return LoadHfTokenizer(*file);
  return absl::InvalidArgumentError(
      absl::StrCat(*file, ": not a tokenizer.json (*.json) or tokenizer.model (*.model)"));
}

absl::StatusOr<std::string> ReadUtf8File(const std::string& path) {
  std::string bytes;
  if (absl::Status st = model::ReadFileToString(path, &bytes); !st.ok()) return st;
  if (absl::Status st = ValidateUtf8(bytes); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", st.message()));
  }
  return bytes;
}

absl::StatusOr<std::vector<int32_t>> ParseTokenIdList(absl::string_view text, absl::string_view what) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == ',') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[j])) &&
           text[j] != ',') {
      ++j;
    }
    int32_t id;
    if (!absl::SimpleAtoi(text.substr(i, j - i), &id)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": \"", text.substr(i, j - i),
                                                     "\" at byte ", i, " is not a token id"));
    }
    ids.push_back(id);
    i = j;
  }
  return ids;
}

absl::StatusOr<TokenizedFiles> TokenizeFiles(const std::string& tokenizer_path,
                                             const std::vector<std::string>& files,
                                             bool add_special_tokens) {
  TokenizedFiles out;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(tokenizer_path, &out.tokenizer_file);
  if (!t.ok()) return t.status();
  absl::StatusOr<std::string> sha = model::Sha256OfFile(out.tokenizer_file);
  if (!sha.ok()) return sha.status();
  out.tokenizer_sha256 = *std::move(sha);
  out.tokenizer_description = (*t)->Describe();
  for (const std::string& f : files) {
    absl::StatusOr<std::string> text = ReadUtf8File(f);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode(*text, add_special_tokens);
    if (!ids.ok()) return absl::Status(ids.status().code(), absl::StrCat(f, ": ", ids.status().message()));
    out.files.push_back({f, *std::move(ids)});
  }
  return out;
}

}  // namespace sinkscope::text
