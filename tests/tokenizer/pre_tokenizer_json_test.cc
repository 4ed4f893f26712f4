#include "lib/tokenizer/pre_tokenizer_json.h"

#include <catch2/catch.hpp>
#include <string>

namespace cace {
namespace {

TEST_CASE("tokenizer.json pre-tokenizers are recognised by their steps") {
  CHECK(*PreTokenizerFromJson(
            R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true})") ==
        PreTokenizerKind::kGpt2);
  CHECK(*PreTokenizerFromJson(
            R"({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},)"
            R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]})") ==
        PreTokenizerKind::kStarCoder);
  const std::string qwen2 =
      R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":)"
      R"("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},)"
      R"("behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]})";
  CHECK(*PreTokenizerFromJson(qwen2) == PreTokenizerKind::kQwen2);
}

TEST_CASE("An unrecognised tokenizer.json pre-tokenizer is an error that lists its steps") {
  // Whitespace splitting, and a ByteLevel that adds a prefix space, change ids: not accepted.
  for (const char* json : {R"({"type":"Whitespace"})",
                           R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":true})",
                           R"({"type":"Sequence","pretokenizers":[{"type":"Digits"}]})"}) {
    auto kind = PreTokenizerFromJson(json);
    REQUIRE_FALSE(kind.ok());
    CHECK(kind.status().message().find("unsupported pre-tokenizer") != std::string::npos);
  }
  auto broken = PreTokenizerFromJson("{\"type\":");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().message().find("tokenizer.json pre_tokenizer") != std::string::npos);
}

}  // namespace
}  // namespace cace
