#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/tokenizer/stream_decoder.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {
namespace {

using Ids = std::vector<TokenId>;

// 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then pieces with their scores.
VocabConfig SpmVocab() {
  VocabConfig c;
  c.model = TokenizerModel::kSentencePiece;
  auto add = [&](std::string text, TokenKind kind, float score) {
    c.tokens.push_back(std::move(text));
    c.kinds.push_back(kind);
    c.scores.push_back(score);
  };
  add("<unk>", TokenKind::kUnknown, 0);
  add("<s>", TokenKind::kControl, 0);
  add("</s>", TokenKind::kControl, 0);
  for (unsigned b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, TokenKind::kByte, 0);
  }
  // 259..
  for (const char* piece : {"▁", "h", "e", "l", "o"}) add(piece, TokenKind::kNormal, -100);
  add("he", TokenKind::kNormal, -1);    // 264
  add("▁h", TokenKind::kNormal, -2);    // 265
  add("ll", TokenKind::kNormal, -3);    // 266
  add("llo", TokenKind::kNormal, -4);   // 267
  add("▁he", TokenKind::kNormal, -10);  // 268
  c.unknown = 0;
  c.bos = 1;
  c.eos = 2;
  c.add_bos = true;
  return c;
}

constexpr TokenId kSpace = 259, kH = 260, kE = 261, kO = 263, kHe = 264, kLlo = 267, kSpaceHe = 268;
TokenId ByteToken(unsigned b) { return static_cast<TokenId>(3 + b); }

std::unique_ptr<Tokenizer> Make(VocabConfig c) {
  auto t = Tokenizer::Create(std::move(c));
  REQUIRE(t.ok());
  return *std::move(t);
}

TEST_CASE("SentencePiece merges the highest-scoring pair first") {
  auto t = Make(SpmVocab());
  // ▁ h e l l o: "he" (-1) beats "▁h" (-2); then "ll", "llo", and "▁he".
  CHECK(t->Encode("hello") == Ids{kSpaceHe, kLlo});
  CHECK(t->Encode("hello", {.add_special = true}) == Ids{1, kSpaceHe, kLlo});
  CHECK(t->Encode("").empty());
  CHECK(t->Encode("", {.add_special = true}) == Ids{1});
}

TEST_CASE("SentencePiece writes spaces as ▁ and prefixes one") {
  auto t = Make(SpmVocab());
  CHECK(t->Encode("he he") == Ids{kSpaceHe, kSpaceHe});
  CHECK(t->Encode(" ") == Ids{kSpace, kSpace});
  VocabConfig c = SpmVocab();
  c.add_space_prefix = false;
  CHECK(Make(c)->Encode("he") == Ids{kHe});
}

TEST_CASE("SentencePiece falls back to byte tokens") {
  auto t = Make(SpmVocab());
  CHECK(t->Encode("hé") == Ids{265, ByteToken(0xC3), ByteToken(0xA9)});
  auto text = t->Decode(Ids{265, ByteToken(0xC3), ByteToken(0xA9)});
  REQUIRE(text.ok());
  CHECK(*text == "hé");
}

TEST_CASE("SentencePiece adds the prefix again after a special token") {
  auto t = Make(SpmVocab());
  CHECK(t->Encode("he<s>he") == Ids{kSpaceHe, 1, kSpaceHe});
  CHECK(t->Encode("<s>", {.parse_special = false}) ==
        Ids{kSpace, ByteToken('<'), ByteToken('s'), ByteToken('>')});
}

TEST_CASE("SentencePiece decode drops the prefix space once and skips control tokens") {
  auto t = Make(SpmVocab());
  auto text = t->Decode(Ids{1, kSpaceHe, kLlo, kSpace, kH, kE, 2});
  REQUIRE(text.ok());
  CHECK(*text == "hello he");
  auto kept = t->Decode(Ids{1, kSpaceHe, 2}, {.skip_special = false});
  REQUIRE(kept.ok());
  CHECK(*kept == "<s> he</s>");
  for (const std::string s : {"hello", " hello  he ", "ohé€😀"}) {
    auto round = t->Decode(t->Encode(s));
    REQUIRE(round.ok());
    CHECK(*round == s);
  }
}

TEST_CASE("Streaming holds back a character split over byte tokens") {
  auto t = Make(SpmVocab());
  StreamDecoder stream(*t);
  CHECK(*stream.Push(kSpaceHe) == "he");
  CHECK(*stream.Push(ByteToken(0xF0)) == "");
  CHECK(*stream.Push(ByteToken(0x9F)) == "");
  CHECK(*stream.Push(ByteToken(0x98)) == "");
  CHECK(*stream.Push(ByteToken(0x80)) == "😀");
  CHECK(*stream.Push(ByteToken(0xE2)) == "");
  CHECK(*stream.Push(kO) == "\uFFFDo");  // the unfinished character can no longer complete
  CHECK(*stream.Push(ByteToken(0xC3)) == "");
  CHECK(stream.Finish() == "\uFFFD");
}

TEST_CASE("A SentencePiece vocabulary with a malformed byte token is rejected") {
  VocabConfig c = SpmVocab();
  c.tokens[3] = "<0xZZ>";
  auto t = Tokenizer::Create(c);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().find("tokenizer.ggml.tokens[3]") != std::string::npos);
  VocabConfig d = SpmVocab();
  d.scores.pop_back();
  REQUIRE_FALSE(Tokenizer::Create(d).ok());
}

TEST_CASE("SentencePiece from ranked merges (tokenizer.json form)") {
  VocabConfig c = SpmVocab();
  c.scores.clear();
  // The pair rule: "▁h" + "e" is listed, "he" is not, so "▁he" comes from ▁h first.
  c.merges = {{"▁", "h"}, {"▁h", "e"}, {"l", "l"}, {"ll", "o"}};
  auto t = Make(c);
  CHECK(t->Encode("hello") == Ids{kSpaceHe, kLlo});
  CHECK(t->Encode("eh") == Ids{kSpace, kE, kH});
}

}  // namespace
}  // namespace cace
