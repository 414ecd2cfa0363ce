// The text summary (report_view, every tool's stdout) names a --text run's inputs: the
// tokenizer file, its hash and description, whether special tokens were added, and per file the
// ids produced and used, with totals summed here independently of the code under test.
#include "report/report_text.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {
namespace {

TEST(DescribeReport, NamesTheTextInputs) {
  v1::Report r;
  r.mutable_provenance()->set_tool("activation_scan");
  v1::TextInput* t = r.mutable_provenance()->mutable_text_input();
  t->set_tokenizer_file("/m/tokenizer.json");
  t->set_tokenizer_sha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  t->set_tokenizer("tokenizer.json BPE, vocab 50257");
  t->set_add_special_tokens(false);
  const struct { const char* path; int64_t tokens, used; } files[] = {
      {"/data/a.txt", 120, 120}, {"/data/b.txt", 700, 512}};
  int64_t tokens = 0, used = 0;
  for (const auto& f : files) {
    v1::TextFile* tf = t->add_files();
    tf->set_path(f.path);
    tf->set_tokens(f.tokens);
    tf->set_tokens_used(f.used);
    tokens += f.tokens;
    used += f.used;
  }
  r.mutable_activation_report();
  const std::string text = DescribeReport(r);
  const std::string header = "text input: 2 file(s), " + std::to_string(tokens) + " tokens (" +
                             std::to_string(used) +
                             " used), tokenizer /m/tokenizer.json (sha256 0123456789abcdef, "
                             "tokenizer.json BPE, vocab 50257), special tokens not added\n";
  EXPECT_NE(text.find(header), std::string::npos) << text;
  EXPECT_NE(text.find("  /data/a.txt: 120 tokens, 120 used\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  /data/b.txt: 700 tokens, 512 used\n"), std::string::npos) << text;
  // The header line comes before the body's lines.
  EXPECT_LT(text.find("text input:"), text.find("/data/b.txt"));

  t->set_add_special_tokens(true);
  EXPECT_NE(DescribeReport(r).find("special tokens added\n"), std::string::npos);

  // A run on token-id files has no text-input lines.
  r.mutable_provenance()->clear_text_input();
  EXPECT_EQ(DescribeReport(r).find("text input"), std::string::npos);
}

}  // namespace
}  // namespace sinkscope::analysis
