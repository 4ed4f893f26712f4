// Expected pieces were produced by Hugging Face `tokenizers` 0.23 with each family's
// pre_tokenizer configuration (see hf_reference.py for the configurations).
#include "lib/tokenizer/pre_tokenizer.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace cace {
namespace {

std::vector<std::string> Split(PreTokenizerKind kind, std::string_view text) {
  std::vector<std::string_view> views;
  PreTokenize(kind, text, &views);
  return {views.begin(), views.end()};
}

using V = std::vector<std::string>;

TEST_CASE("GPT-2 split keeps the space before a word and splits whitespace runs") {
  const auto k = PreTokenizerKind::kGpt2;
  CHECK(Split(k, "Hello world  foo\n\n  bar") == V{"Hello", " world", " ", " foo", "\n\n ", " bar"});
  CHECK(Split(k, "x = 12345 + y's 'RE\tz") ==
        V{"x", " =", " 12345", " +", " y", "'s", " '", "RE", "\t", "z"});
  CHECK(Split(k, "def f():\n    return 3.14\r\n") ==
        V{"def", " f", "():", "\n   ", " return", " 3", ".", "14", "\r\n"});
  CHECK(Split(k, "  \n  x") == V{"  \n ", " x"});
  CHECK(Split(k, "ក្នុង 你好 ﷺ") == V{"ក", "្", "ន", "ុ", "ង", " 你好", " ﷺ"});
  CHECK(Split(k, "a b   ") == V{"a", " b", "   "});
  CHECK(Split(k, "!!??.. ab") == V{"!!??..", " ab"});
  CHECK(Split(k, "").empty());
}

TEST_CASE("StarCoder split isolates every digit") {
  const auto k = PreTokenizerKind::kStarCoder;
  CHECK(Split(k, "x = 12345 + y's 'RE\tz") ==
        V{"x", " =", " ", "1", "2", "3", "4", "5", " +", " y", "'s", " '", "RE", "\t", "z"});
  CHECK(Split(k, "def f():\n    return 3.14\r\n") ==
        V{"def", " f", "():", "\n   ", " return", " ", "3", ".", "1", "4", "\r\n"});
}

TEST_CASE("DeepSeek-Coder split applies its stages in order") {
  const auto k = PreTokenizerKind::kDeepSeekCoder;
  CHECK(Split(k, "Hello world  foo\n\n  bar") ==
        V{"Hello", " world", " ", " foo", "\n", "\n", " ", " bar"});
  CHECK(Split(k, "x = 12345 + y's 'RE\tz") ==
        V{"x", " = ", "1", "2", "3", "4", "5", " +", " y", "'", "s", " '", "RE", "\tz"});
  CHECK(Split(k, "def f():\n    return 3.14\r\n") ==
        V{"def", " f", "():", "\n", "   ", " return", " ", "3", ".", "1", "4", "\r", "\n"});
  CHECK(Split(k, "  \n  x") == V{"  ", "\n", " ", " x"});
  CHECK(Split(k, "ក្នុង 你好 ﷺ") == V{"ក", "្", "ន", "ុ", "ង", " ", "你好", " ﷺ"});
}

TEST_CASE("DeepSeek LLM split: its own letter and punctuation classes, trailing spaces apart") {
  const auto k = PreTokenizerKind::kDeepSeekLlm;
  // Letters re-split by the punctuation stage, whose class holds ASCII letters but not é.
  CHECK(Split(k, "héllo wörld  \n  x = 12345;  ") ==
        V{"h", "é", "llo", " w", "ö", "rld", "  ", "\n", " ", " x", " =", " ", "12345", ";", "  "});
  CHECK(Split(k, "Ωμέγα, «quote» ‘a’！ 你好。  ") ==
        V{"Ωμέγα", ",", " «", "quote", "»", " ", "‘", "a", "’", "！", " ", "你好", "。", "  "});
  CHECK(Split(k, "tab\tend\t\t") == V{"tab", "\tend", "\t\t"});
  CHECK(*PreTokenizerFromName("deepseek-llm") == k);
}

TEST_CASE("Llama 3 and Qwen2 splits differ only in digits per piece") {
  CHECK(Split(PreTokenizerKind::kLlama3, "x = 12345 + y's 'RE\tz") ==
        V{"x", " =", " ", "123", "45", " +", " y", "'s", " '", "RE", "\tz"});
  CHECK(Split(PreTokenizerKind::kQwen2, "x = 12345 + y's 'RE\tz") ==
        V{"x", " =", " ", "1", "2", "3", "4", "5", " +", " y", "'s", " '", "RE", "\tz"});
  for (auto k : {PreTokenizerKind::kLlama3, PreTokenizerKind::kQwen2}) {
    CHECK(Split(k, "Hello world  foo\n\n  bar") ==
          V{"Hello", " world", " ", " foo", "\n\n", " ", " bar"});
    CHECK(Split(k, "  \n  x") == V{"  \n", " ", " x"});
    CHECK(Split(k, "ក្នុង 你好 ﷺ") == V{"ក", "្ន", "ុង", " 你好", " ﷺ"});
  }
  CHECK(Split(PreTokenizerKind::kQwen2, "def f():\n    return 3.14\r\n") ==
        V{"def", " f", "():\n", "   ", " return", " ", "3", ".", "1", "4", "\r\n"});
}

TEST_CASE("Pieces cover ill-formed UTF-8 exactly") {
  const std::string text = "ab\xff\xc3 \xe2\x82x\x80 12";
  for (auto k : {PreTokenizerKind::kGpt2, PreTokenizerKind::kLlama3, PreTokenizerKind::kQwen2,
                 PreTokenizerKind::kDeepSeekCoder, PreTokenizerKind::kDeepSeekLlm,
                 PreTokenizerKind::kStarCoder}) {
    std::string joined;
    for (const std::string& piece : Split(k, text)) {
      CHECK_FALSE(piece.empty());
      joined += piece;
    }
    CHECK(joined == text);
  }
}

TEST_CASE("Pre-tokenizer names follow tokenizer.ggml.pre") {
  CHECK(*PreTokenizerFromName("deepseek-coder") == PreTokenizerKind::kDeepSeekCoder);
  CHECK(*PreTokenizerFromName("starcoder") == PreTokenizerKind::kStarCoder);
  CHECK(*PreTokenizerFromName("gpt-2") == PreTokenizerKind::kGpt2);
  CHECK(*PreTokenizerFromName("qwen2") == PreTokenizerKind::kQwen2);
  CHECK(*PreTokenizerFromName("llama-bpe") == PreTokenizerKind::kLlama3);
  // SmolLM2's GGUF: digits one by one, then GPT-2's split.
  CHECK(*PreTokenizerFromName("smollm") == PreTokenizerKind::kStarCoder);
  CHECK(Split(*PreTokenizerFromName("smollm"), "x = 123 ab") ==
        std::vector<std::string>{"x", " =", " ", "1", "2", "3", " ab"});
  const auto bad = PreTokenizerFromName("falcon");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("falcon") != std::string::npos);
  CHECK(PreTokenizerName(PreTokenizerKind::kQwen2) == "qwen2");
}

}  // namespace
}  // namespace cace
