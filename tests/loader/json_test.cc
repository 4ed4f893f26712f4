#include "lib/json/json.h"

#include <catch2/catch.hpp>

namespace cace {
namespace {

TEST_CASE("json parses nested values, escapes and exact 64-bit integers") {
  auto v = ParseJson(R"( {"a": [1, -2.5e1, true, null, "x\u00e9\ud83d\ude00\n"], "big": 18446744073709551615} )", "t.json");
  REQUIRE(v.ok());
  REQUIRE(v->is_object());
  const JsonValue* a = v->Find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->items().size() == 5);
  CHECK(a->items()[0].AsInt64() == 1);
  CHECK(a->items()[1].AsDouble() == -25.0);
  CHECK(a->items()[1].AsInt64() == -25);
  CHECK(a->items()[2].AsBool() == true);
  CHECK(a->items()[3].is_null());
  CHECK(a->items()[4].text() == "x\xC3\xA9\xF0\x9F\x98\x80\n");
  CHECK(v->Find("big")->AsUint64() == UINT64_MAX);
  CHECK_FALSE(v->Find("big")->AsInt64().has_value());
  CHECK(v->Find("missing") == nullptr);
}

TEST_CASE("json keeps the source range of a value") {
  const std::string text = R"({"pre": {"type": "ByteLevel"}, "x": 1})";
  auto v = ParseJson(text, "t.json");
  REQUIRE(v.ok());
  const JsonValue* pre = v->Find("pre");
  CHECK(text.substr(pre->source_begin(), pre->source_end() - pre->source_begin()) == R"({"type": "ByteLevel"})");
}

TEST_CASE("json errors name the file and the byte offset") {
  struct Case {
    const char* text;
    const char* what;
  };
  for (const Case& c : {Case{"{\"a\": }", "expected a value"}, Case{"[1, 2", "end of text"},
                        Case{"{\"a\": 1, \"a\": 2}", "duplicate key"}, Case{"\"abc", "unterminated string"},
                        Case{"[01]", "expected ','"}, Case{"\"\\ud800\"", "surrogate"}, Case{"1 2", "after the JSON"},
                        Case{"{\"a\" 1}", "expected ':'"}, Case{"[1.]", "digits after"}, Case{"\"\x01\"", "control"},
                        Case{"tru", "expected 'true'"}, Case{"", "end of text"}}) {
    auto v = ParseJson(c.text, "bad.json");
    INFO(c.text);
    REQUIRE_FALSE(v.ok());
    const std::string message(v.status().message());
    CHECK(message.find("bad.json: JSON error at byte") == 0);
    CHECK(message.find(c.what) != std::string::npos);
  }
}

TEST_CASE("json depth and size limits hold") {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto v = ParseJson(deep, "deep.json", JsonLimits{.max_depth = 64});
  REQUIRE_FALSE(v.ok());
  CHECK(std::string(v.status().message()).find("nesting deeper than 64") != std::string::npos);
  CHECK(ParseJson(deep, "deep.json", JsonLimits{.max_depth = 100}).ok());
  auto big = ParseJson("[1,2,3]", "big.json", JsonLimits{.max_bytes = 4});
  REQUIRE_FALSE(big.ok());
  CHECK(std::string(big.status().message()).find("exceeds the limit") != std::string::npos);
}

}  // namespace
}  // namespace cace
