// Exact agreement with the Hugging Face reference (tokenizers.js, tests/text/make_expected.mjs):
// every text of tests/text/corpus x every real tokenizer.json (GPT-2, Llama 2-style SentencePiece
// BPE, Llama 3, Qwen3, GPT-OSS o200k), ids with and without special tokens, and the decoded text.
// The tokenizer.json files come from tools/setup.sh's npm cache ($SINKSCOPE_NPM_DIR, else
// $XDG_CACHE_HOME/sinkscope/npm, else ~/.cache/sinkscope/npm); the two small fixtures of
// tests/text/testdata (make_tiny_tokenizers.py) are checked the same way.
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "text/hf_tokenizer.h"
#include "text/load_tokenizer.h"

namespace sinkscope::text {
namespace {

using model::JsonValue;

std::string NpmDir() {
  if (const char* d = std::getenv("SINKSCOPE_NPM_DIR"); d != nullptr && d[0] != '\0') return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') {
    return absl::StrCat(x, "/sinkscope/npm");
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') {
    return absl::StrCat(h, "/.cache/sinkscope/npm");
  }
  return "";
}

std::vector<int32_t> Ids(const JsonValue& v) {
  std::vector<int32_t> ids;
  for (const JsonValue& x : v.array()) ids.push_back(static_cast<int32_t>(*x.AsInt64()));
  return ids;
}

TEST(TokenizerAgreementTest, EveryTextEveryTokenizerMatchesTokenizersJs) {
  std::string expected_text;
  ASSERT_TRUE(model::ReadFileToString("tests/text/expected_ids.json", &expected_text).ok());
  absl::StatusOr<JsonValue> expected = model::ParseJson(expected_text);
  ASSERT_TRUE(expected.ok()) << expected.status();
  const std::string npm = NpmDir();
  std::map<std::string, std::map<std::string, std::string>> table;
  std::vector<std::string> texts;
  for (const auto& [name, entry] : expected->Find("tokenizers")->object()) {
    // Real files from the npm cache, or the committed fixtures (tests/text/testdata).
    const std::string path =
        entry.Find("dir") != nullptr
            ? absl::StrCat(entry.Find("dir")->string_value(), "/tokenizer.json")
            : absl::StrCat(npm, "/node_modules/", entry.Find("package")->string_value(),
                           "/models/tokenizer.json");
    absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadHfTokenizer(path);
    ASSERT_TRUE(t.ok()) << t.status() << "\n(run tools/setup.sh, which fetches the real tokenizer "
                        << "files into " << npm << "; or set SINKSCOPE_NPM_DIR)";
    texts.clear();
    for (const auto& [file, want] : entry.Find("texts")->object()) {
      texts.push_back(file);
      absl::StatusOr<std::string> text = ReadUtf8File("tests/text/corpus/" + file);
      ASSERT_TRUE(text.ok()) << text.status();
      absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode(*text, true);
      absl::StatusOr<std::vector<int32_t>> plain = (*t)->Encode(*text, false);
      ASSERT_TRUE(ids.ok() && plain.ok());
      const bool ids_equal = *ids == Ids(*want.Find("ids"));
      const bool plain_equal = *plain == Ids(*want.Find("ids_no_special"));
      EXPECT_TRUE(ids_equal) << name << " " << file << " (add_special_tokens=true)";
      EXPECT_TRUE(plain_equal) << name << " " << file << " (add_special_tokens=false)";
      absl::StatusOr<std::string> decoded = (*t)->Decode(Ids(*want.Find("ids_no_special")), false);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      const bool decoded_equal = *decoded == want.Find("decoded")->string_value();
      EXPECT_TRUE(decoded_equal) << name << " " << file << " decode:\n  ours [" << *decoded
                                 << "]\n  ref  [" << want.Find("decoded")->string_value() << "]";
      std::string cell = ids_equal && plain_equal ? "ids=" : "IDS!";
      cell += decoded_equal ? " dec=" : " DEC!";
      cell += *decoded == *text ? " rt" : " --";
      table[name][file] = cell;
    }
  }
  // The agreement table: ids= (both id lists equal the reference), dec= (decode equals the
  // reference's decode), rt (decode gives back the text exactly).
  std::cout << std::left << std::setw(22) << "text";
  for (const auto& [name, row] : table) std::cout << std::setw(16) << name;
  std::cout << "\n";
  for (const std::string& f : texts) {
    std::cout << std::setw(22) << f;
    for (const auto& [name, row] : table) std::cout << std::setw(16) << row.at(f);
    std::cout << "\n";
  }
}

}  // namespace
}  // namespace sinkscope::text
