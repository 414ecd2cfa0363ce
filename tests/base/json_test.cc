// The strict JSON parser on valid and invalid documents.
#include "base/json.h"

#include <string>

#include "gtest/gtest.h"

namespace sinkscope::model {
namespace {

TEST(JsonTest, ParsesNestedValues) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"\\\/\n\u00e9\ud83d\ude00"},
           "big": 9007199254740993} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->is_object());
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->array().size(), 5u);
  EXPECT_EQ(*a->array()[0].AsInt64(), 1);
  EXPECT_EQ(a->array()[1].number(), -2500.0);
  EXPECT_FALSE(a->array()[1].AsInt64().ok());
  EXPECT_TRUE(a->array()[2].bool_value());
  EXPECT_TRUE(a->array()[4].is_null());
  EXPECT_EQ(v->Find("b")->Find("c")->string_value(), "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  // 2^53 + 1 is kept exactly (a double could not).
  EXPECT_EQ(*v->Find("big")->AsInt64(), 9007199254740993LL);
  EXPECT_EQ(v->Find("missing"), nullptr);
}

TEST(JsonTest, RejectsInvalidDocuments) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[01]", "[1.]", "[.5]",
                          "[1e]", "nul", "[NaN]", "{\"a\":1}x", "\"\x01\"", "\"\\x\"",
                          "\"\\ud800\"", "{\"a\":1,\"a\":2}", "[\"unterminated]", "{1:2}",
                          "// comment\n{}", "[-]"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << "accepted: " << bad;
  }
  absl::StatusOr<JsonValue> dup = ParseJson("{\"w\": 1, \"w\": 2}");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate key \"w\""), std::string::npos);
}

TEST(JsonTest, BoundsNestingDepth) {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  absl::StatusOr<JsonValue> v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("too deep"), std::string::npos);
  EXPECT_TRUE(ParseJson("[[[[1]]]]").ok());
}

TEST(JsonTest, Int64Limits) {
  EXPECT_EQ(*ParseJson("9223372036854775807")->AsInt64(), INT64_MAX);
  EXPECT_FALSE(ParseJson("9223372036854775808")->AsInt64().ok());
  EXPECT_FALSE(ParseJson("\"1\"")->AsInt64().ok());
}

}  // namespace
}  // namespace sinkscope::model
