// make_fixture_checkpoint OUT.safetensors: writes the analysis tests' fixture checkpoint.
#include <iostream>

#include "tests/analysis/fixture_checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fixture_checkpoint OUT.safetensors\n";
    return 2;
  }
  const absl::Status st = sinkscope::testing::WriteFixtureCheckpoint(argv[1]);
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  return 0;
}
