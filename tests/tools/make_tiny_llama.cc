// make_tiny_llama DIR TOKENS: a tiny random Llama checkpoint directory and a token-id file.
#include <iostream>

#include "tests/analysis/tiny_llama_fixture.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_tiny_llama DIR TOKENS_FILE\n";
    return 2;
  }
  absl::Status st = sinkscope::testing::WriteTinyLlama(argv[1], {}, 7);
  if (st.ok()) st = sinkscope::testing::WriteTokens(argv[2], 20, 50, 8);
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  return 0;
}
