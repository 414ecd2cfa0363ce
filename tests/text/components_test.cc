// text/ components against their specifications: UTF-8 validation offsets, Unicode normalization
// (UAX #15 examples), GPT-2's byte alphabet, the Oniguruma-style regexes through ICU (look-ahead,
// \p{..}, (?i:..)), added tokens, tokenizer_config.json, and loading errors: unsupported
// components are named, never skipped.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/sha256.h"
#include "gtest/gtest.h"
#include "text/byte_level.h"
#include "text/hf_tokenizer.h"
#include "text/load_tokenizer.h"
#include "text/unicode.h"

namespace sinkscope::text {
namespace {

TEST(Utf8Test, InvalidSequencesNameTheirOffset) {
  EXPECT_TRUE(ValidateUtf8("plain ascii, caf\xC3\xA9, \xF0\x9F\x98\x80").ok());
  EXPECT_EQ(ValidateUtf8("ab\xFF").message(), "invalid UTF-8 at byte 2");
  EXPECT_EQ(ValidateUtf8("\xC3").message(), "invalid UTF-8 at byte 0");          // truncated
  EXPECT_EQ(ValidateUtf8("x\xC0\xAF").message(), "invalid UTF-8 at byte 1");     // overlong '/'
  EXPECT_EQ(ValidateUtf8("xy\xED\xA0\x80").message(), "invalid UTF-8 at byte 2"); // surrogate
}

TEST(NormalizeTest, Uax15Examples) {
  // e + U+0301 composes to U+00E9 under NFC; the ligature U+FB01 and full-width A decompose only
  // under the compatibility forms.
  EXPECT_EQ(*Normalize(NormalizationForm::kNfc, "cafe\xCC\x81"), "caf\xC3\xA9");
  EXPECT_EQ(*Normalize(NormalizationForm::kNfd, "caf\xC3\xA9"), "cafe\xCC\x81");
  EXPECT_EQ(*Normalize(NormalizationForm::kNfc, "\xEF\xAC\x81"), "\xEF\xAC\x81");
  EXPECT_EQ(*Normalize(NormalizationForm::kNfkc, "\xEF\xAC\x81\xEF\xBC\xA1"), "fiA");
}

TEST(ByteLevelTest, Gpt2Alphabet) {
  // From GPT-2's bytes_to_unicode: space -> U+0120 'Ġ', newline -> U+010A 'Ċ', printable ASCII
  // maps to itself, 0xAD (soft hyphen, not printable) -> U+0143.
  EXPECT_EQ(ByteLevelEncode(" \n!"), "\xC4\xA0\xC4\x8A!");
  EXPECT_EQ(ByteLevelEncode("\xAD"), "\xC5\x83");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(ByteLevelDecode(ByteLevelEncode(all)), all);
}

std::vector<std::string> Matches(const std::string& pattern, const std::string& text) {
  absl::StatusOr<std::unique_ptr<Regex>> re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status();
  std::vector<std::string> out;
  for (const ByteRange& r : (*re)->FindAll(text)) out.push_back(text.substr(r.begin, r.end - r.begin));
  return out;
}

TEST(RegexTest, LookaheadLeavesTheLastSpaceToTheNextWord) {
  // GPT-2's rule: a run of spaces gives all but the last to "\s+(?!\S)"; the last goes with the word.
  EXPECT_EQ(Matches(R"( ?\p{L}+|\s+(?!\S)|\s+)", "a   b  "),
            (std::vector<std::string>{"a", "  ", " b", "  "}));
}

TEST(RegexTest, CaseInsensitiveContractionsAndUnicodeClasses) {
  EXPECT_EQ(Matches(R"((?i:'s|'re)|\p{Lu}\p{Ll}*|\p{N}{1,3})", "It'S You'Re 12345"),
            (std::vector<std::string>{"It", "'S", "You", "'Re", "123", "45"}));
  EXPECT_EQ(Matches(R"(\p{L}+)", "Привет мир 注意"),
            (std::vector<std::string>{"Привет", "мир", "注意"}));
}

TEST(RegexTest, WhiteSpaceIsUnicodeWhiteSpace) {
  // Oniguruma's \s includes U+0085 (NEL) and U+000B; ICU's own \s does not.
  EXPECT_EQ(Matches(R"(\s+)", "a\xC2\x85\x0B" "b"), (std::vector<std::string>{"\xC2\x85\x0B"}));
}

std::string WithComponent(const std::string& key, const std::string& value) {
  std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  if (!key.empty()) json += absl::StrCat(", \"", key, "\": ", value);
  return json + "}";
}

TEST(HfTokenizerTest, MinimalBpeMerges) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeHfTokenizer(WithComponent("", ""), "");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("abbab", false), (std::vector<int32_t>{2, 1, 2}));
  EXPECT_EQ(*(*t)->Decode({2, 1}, false), "ab b");  // no decoder: tokens joined by spaces
  absl::StatusOr<std::string> bad = (*t)->Decode({3}, false);
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "token id 3 is not in the vocabulary"));
}

TEST(HfTokenizerTest, UnsupportedComponentsAreNamed) {
  struct Case {
    std::string json;
    std::string names;
  };
  const std::vector<Case> cases = {
      {R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})", "model type \"WordPiece\""},
      {R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})", "model type \"Unigram\""},
      {WithComponent("normalizer", R"({"type": "BertNormalizer"})"), "normalizer type \"BertNormalizer\""},
      {WithComponent("normalizer", R"({"type": "Sequence", "normalizers": [{"type": "Precompiled"}]})"),
       "normalizer type \"Precompiled\""},
      {WithComponent("pre_tokenizer", R"({"type": "Whitespace"})"), "pre_tokenizer type \"Whitespace\""},
      {WithComponent("pre_tokenizer", R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"})"),
       "behavior \"Sideways\""},
      {WithComponent("decoder", R"({"type": "WordPiece"})"), "decoder type \"WordPiece\""},
      {WithComponent("post_processor", R"({"type": "Magic"})"), "post_processor type \"Magic\""},
      {WithComponent("pre_tokenizer", R"({"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"})"),
       "does not compile"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeHfTokenizer(c.json, "");
    ASSERT_FALSE(t.ok()) << c.json;
    EXPECT_TRUE(absl::StrContains(t.status().message(), c.names)) << t.status();
  }
}

TEST(HfTokenizerTest, AddedTokensStripAndSpecialFlag) {
  // <m> swallows the white space on both sides (lstrip, rstrip); "ab" as an added token
  // (normalized, not special) wins over the model; skip_special_tokens drops only <m>.
  const std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, " ": 4}, "merges": []},
    "added_tokens": [
      {"id": 2, "content": "<m>", "special": true, "lstrip": true, "rstrip": true, "normalized": false},
      {"id": 3, "content": "ab", "special": false, "normalized": true}]})";
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeHfTokenizer(json, "");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("a  <m>  ab b", false), (std::vector<int32_t>{0, 2, 3, 4, 1}));
  EXPECT_EQ(*(*t)->Decode({0, 2, 3}, true), "a ab");
}

TEST(HfTokenizerTest, SingleWordTokensDoNotMatchInsideWords) {
  // single_word (tokenizers' AddedToken docs): the token must not break a word.
  const std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, " ": 2}, "merges": []},
    "added_tokens": [{"id": 3, "content": "ab", "special": false, "single_word": true, "normalized": false}]})";
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeHfTokenizer(json, "");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*(*t)->Encode("ab aab ab", false), (std::vector<int32_t>{3, 2, 0, 0, 1, 2, 3}));
}

TEST(HfTokenizerTest, ConfigAddBosAndEosOverrideThePostProcessor) {
  const std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
    "added_tokens": [{"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}],
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1]}}}})";
  EXPECT_EQ(*(*MakeHfTokenizer(json, ""))->Encode("a", true), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(*(*MakeHfTokenizer(json, R"({"add_bos_token": false, "add_eos_token": true, "eos_token": "</s>"})"))
                 ->Encode("a", true),
            (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(*(*MakeHfTokenizer(json, R"({"add_eos_token": true, "eos_token": {"content": "</s>"}})"))
                 ->Encode("a", true),
            (std::vector<int32_t>{1, 0, 2}));
  EXPECT_FALSE(MakeHfTokenizer(json, R"({"add_eos_token": true})").ok());  // which token?
}

TEST(LoadTokenizerTest, ErrorsNameTheFile) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  ASSERT_TRUE(model::WriteFileAtomically(dir + "/tokenizer.json",
                                         R"({"model": {"type": "Unigram", "vocab": []}})").ok());
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(dir);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), dir + "/tokenizer.json: "));
  EXPECT_TRUE(absl::StrContains(t.status().message(), "Unigram"));
  EXPECT_FALSE(LoadTokenizer(dir + "/nothing_here").ok());
  ASSERT_TRUE(model::WriteFileAtomically(dir + "/bad.txt", "ok\n\xC3(").ok());
  absl::StatusOr<std::string> text = ReadUtf8File(dir + "/bad.txt");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), dir + "/bad.txt: invalid UTF-8 at byte 3");
}

TEST(LoadTokenizerTest, TokenizeFilesReportsFileShaAndIds) {
  // The committed fixture folder; its SHA-256 is checked against coreutils' sha256sum by
  // tests/tools:text_input_cli_test, here against base/sha256 of the same file.
  const std::string dir = "tests/text/testdata/tiny_bytelevel";
  const std::vector<std::string> files = {"tests/text/corpus/english.txt",
                                          "tests/text/corpus/cjk.txt"};
  absl::StatusOr<TokenizedFiles> t = TokenizeFiles(dir, files, true);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->tokenizer_file, dir + "/tokenizer.json");
  EXPECT_EQ(t->tokenizer_sha256, *model::Sha256OfFile(dir + "/tokenizer.json"));
  ASSERT_EQ(t->files.size(), 2u);
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = LoadTokenizer(dir);
  ASSERT_TRUE(tok.ok());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(t->files[i].path, files[i]);
    EXPECT_EQ(t->files[i].ids, *(*tok)->Encode(*ReadUtf8File(files[i]), true));
  }
  const std::string bad = std::string(std::getenv("TEST_TMPDIR")) + "/latin1.txt";
  ASSERT_TRUE(model::WriteFileAtomically(bad, "caf\xE9").ok());
  absl::StatusOr<TokenizedFiles> b = TokenizeFiles(dir, {files[0], bad}, true);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), bad + ": invalid UTF-8 at byte 3");
}

TEST(LoadTokenizerTest, TokenIdLists) {
  EXPECT_EQ(*ParseTokenIdList("1 2,3\n 4", "x"), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_FALSE(ParseTokenIdList("1 two", "x").ok());
}

}  // namespace
}  // namespace sinkscope::text
