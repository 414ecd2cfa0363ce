// make_tiny_llama DIR TOKENS [VOCAB]: a tiny random Llama checkpoint directory and a token-id
// file (VOCAB: the vocabulary size, default 50).
#include <cstdlib>
#include <iostream>

#include "tests/analysis/tiny_llama_fixture.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: make_tiny_llama DIR TOKENS_FILE [VOCAB]\n";
    return 2;
  }
  sinkscope::testing::TinyLlama shape;
  if (argc == 4) shape.vocab = std::atoi(argv[3]);
  absl::Status st = sinkscope::testing::WriteTinyLlama(argv[1], shape, 7);
  if (st.ok()) st = sinkscope::testing::WriteTokens(argv[2], 20, 50, 8);
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  return 0;
}
