#include "lib/tokenizer/fim_prompt.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/tokenizer/tokenizer_file.h"
#include "tests/tokenizer/test_vocabs.h"

namespace cace {
namespace {

using Ids = std::vector<TokenId>;

std::unique_ptr<Tokenizer> Shared(const std::string& name) {
  auto t = LoadTokenizer(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf");
  REQUIRE(t.ok());
  return *std::move(t);
}

Ids Concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_CASE("FIM prompt is prefix, suffix, middle around the encoded code") {
  const auto t = Shared("starcoder");
  const std::string prefix = "def area(r):\n    return ";
  const std::string suffix = "\n\nprint(area(2))\n";
  auto ids = EncodeFimPrompt(*t, prefix, suffix, /*add_bos=*/true);
  REQUIRE(ids.ok());
  // StarCoder adds no BOS; <fim_prefix> 1, <fim_suffix> 3, <fim_middle> 2.
  CHECK(*ids == Concat({{1}, t->Encode(prefix), {3}, t->Encode(suffix), {2}}));
}

TEST_CASE("FIM prompt starts with BOS where the vocabulary adds one") {
  const auto t = Shared("deepseek-coder");
  auto ids = EncodeFimPrompt(*t, "x = ", "\n", /*add_bos=*/true);
  REQUIRE(ids.ok());
  CHECK(*ids == Concat({{32013, 32016}, t->Encode("x = "), {32015}, t->Encode("\n"), {32017}}));
  auto no_bos = EncodeFimPrompt(*t, "x = ", "\n", /*add_bos=*/false);
  REQUIRE(no_bos.ok());
  CHECK(no_bos->front() == 32016);
}

TEST_CASE("FIM markers written in the code stay plain text") {
  const auto t = Shared("starcoder");
  auto ids = EncodeFimPrompt(*t, "s = '<fim_middle>'", "<fim_suffix>", /*add_bos=*/false);
  REQUIRE(ids.ok());
  CHECK(std::count(ids->begin(), ids->end(), 2) == 1);
  CHECK(std::count(ids->begin(), ids->end(), 3) == 1);
  CHECK(ids->back() == 2);
}

TEST_CASE("FIM prompt needs the vocabulary's FIM tokens") {
  for (const char* name : {"gpt-2", "llama-spm"}) {
    auto ids = EncodeFimPrompt(*Shared(name), "a", "b", true);
    REQUIRE_FALSE(ids.ok());
    CHECK(ids.status().code() == absl::StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("SentencePiece FIM prompt drops the lone ▁ the suffix would start with") {
  // CodeLlama-like: ▁<PRE> ▁<SUF> ▁<MID> as control tokens; "▁" alone and "\n" as byte 0x0A.
  VocabConfig c;
  c.model = TokenizerModel::kSentencePiece;
  auto add = [&](std::string text, TokenKind kind, float score) {
    c.tokens.push_back(std::move(text));
    c.kinds.push_back(kind);
    c.scores.push_back(score);
  };
  add("<unk>", TokenKind::kUnknown, 0);   // 0
  add("<s>", TokenKind::kControl, 0);     // 1
  add("▁<PRE>", TokenKind::kControl, 0);  // 2
  add("▁<SUF>", TokenKind::kControl, 0);  // 3
  add("▁<MID>", TokenKind::kControl, 0);  // 4
  add("▁", TokenKind::kNormal, -1);       // 5
  add("<0x0A>", TokenKind::kByte, 0);     // 6
  add("x", TokenKind::kNormal, -2);       // 7
  add("▁x", TokenKind::kNormal, -1);      // 8
  c.bos = 1;
  c.add_bos = true;
  auto t = Tokenizer::Create(c);
  REQUIRE(t.ok());
  auto ids = EncodeFimPrompt(**t, "x", "\nx", /*add_bos=*/true);
  REQUIRE(ids.ok());
  CHECK(*ids == Ids{1, 2, 8, 3, 6, 7, 4});
  auto word = EncodeFimPrompt(**t, "x", "x", /*add_bos=*/true);
  REQUIRE(word.ok());
  CHECK(*word == Ids{1, 2, 8, 3, 8, 4});
}

}  // namespace
}  // namespace cace
