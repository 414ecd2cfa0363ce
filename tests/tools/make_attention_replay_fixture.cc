// make_attention_replay_fixture DIR: writes the attention_replay CLI test's files to DIR
// (layer.safetensors, input.safetensors, no_heads_layer.safetensors).
#include <iostream>

#include "tests/analysis/attention_replay_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_attention_replay_fixture DIR\n";
    return 2;
  }
  const absl::Status st = sinkscope::testing::WriteReplayFixture(argv[1]);
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  return 0;
}
