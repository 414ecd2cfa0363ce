// The FIPS 180-2 test vectors (Appendix B) and the empty string; chunked updates agree with one.
#include "base/sha256.h"

#include <string>

#include "base/atomic_file.h"
#include "gtest/gtest.h"

namespace sinkscope::model {
namespace {

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, ChunkedUpdatesEqualOneUpdate) {
  const std::string text(1000, 'x');
  for (size_t step : {1, 3, 63, 64, 65, 200}) {
    Sha256 h;
    for (size_t i = 0; i < text.size(); i += step) h.Update(absl::string_view(text).substr(i, step));
    const std::array<uint8_t, 32> d = h.Finish();
    Sha256 one;
    one.Update(text);
    EXPECT_EQ(d, one.Finish()) << "step " << step;
  }
}

TEST(Sha256Test, File) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/abc.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "abc").ok());
  absl::StatusOr<std::string> h = Sha256OfFile(path);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(Sha256OfFile(path + ".missing").ok());
}

}  // namespace
}  // namespace sinkscope::model
