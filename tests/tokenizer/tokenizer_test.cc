#include "lib/tokenizer/tokenizer.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/tokenizer/stream_decoder.h"
#include "tests/tokenizer/test_vocabs.h"

namespace cace {
namespace {

using testing::Byte;
using testing::ByteLevelVocab;
using Ids = std::vector<TokenId>;

// Bytes, then 256 <|endoftext|> (control), 257 <fim_prefix>, 258 <fim_suffix>, 259 <fim_middle>
// (control), 260 <fim_prefix>x (user-defined, longer), 261 "Ġhi".
VocabConfig CodeVocab() {
  VocabConfig c = ByteLevelVocab(
      {"<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_prefix>x", "Ġhi"},
      {{"Ġ", "h"}, {"Ġh", "i"}}, PreTokenizerKind::kStarCoder);
  c.tokens.insert(c.tokens.begin() + 262, "Ġh");  // 262, made by the first merge
  c.kinds.push_back(TokenKind::kNormal);
  for (TokenId id : {256, 257, 258, 259}) c.kinds[id] = TokenKind::kControl;
  c.kinds[260] = TokenKind::kUserDefined;
  c.bos = 256;
  c.eos = 256;
  c.add_eos = true;
  return c;
}

std::unique_ptr<Tokenizer> Make(VocabConfig c) {
  auto t = Tokenizer::Create(std::move(c));
  REQUIRE(t.ok());
  return *std::move(t);
}

TEST_CASE("Added tokens are split out before pre-tokenization, longest first") {
  auto t = Make(CodeVocab());
  CHECK(t->Encode("<fim_prefix> hi<fim_suffix>") == Ids{257, 261, 258});
  CHECK(t->Encode("a<fim_prefix>x") == Ids{Byte('a'), 260});
  CHECK(t->Encode("<fim_prefix>y") == Ids{257, Byte('y')});
  CHECK(t->Encode("<fim_pre") == Ids{Byte('<'), Byte('f'), Byte('i'), Byte('m'), Byte('_'),
                                      Byte('p'), Byte('r'), Byte('e')});
  // Untrusted text: added tokens are encoded as the characters they are written with.
  const Ids plain = t->Encode("<|endoftext|>", {.parse_special = false});
  CHECK(plain.size() > 1);
  CHECK(std::find(plain.begin(), plain.end(), 256) == plain.end());
}

TEST_CASE("BOS and EOS are added only when asked and when the vocabulary wants them") {
  auto t = Make(CodeVocab());
  CHECK(t->Encode(" hi", {.add_special = true}) == Ids{261, 256});  // add_bos is false
  CHECK(t->Encode(" hi") == Ids{261});
}

TEST_CASE("FIM tokens are found by their spellings, or taken from the file") {
  auto t = Make(CodeVocab());
  const FimTokens& fim = t->fim();
  CHECK(fim.prefix == 257);
  CHECK(fim.suffix == 258);
  CHECK(fim.middle == 259);
  CHECK_FALSE(fim.pad.has_value());
  CHECK(fim.complete());

  VocabConfig c = ByteLevelVocab({"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<|EOT|>"}, {});
  c.fim.middle = 'm';  // a file's own key wins over the spelling
  auto d = Make(c);
  CHECK(d->fim().prefix == 256);
  CHECK(d->fim().suffix == 257);
  CHECK(d->fim().middle == 'm');
  CHECK(d->fim().end_of_turn == 259);

  auto none = Make(ByteLevelVocab({}, {}));
  CHECK_FALSE(none->fim().complete());
}

TEST_CASE("Decode skips control tokens unless asked, and keeps user-defined ones") {
  auto t = Make(CodeVocab());
  const Ids ids = {257, 261, 258, 260, 256};
  CHECK(*t->Decode(ids) == " hi<fim_prefix>x");
  CHECK(*t->Decode(ids, {.skip_special = false}) ==
        "<fim_prefix> hi<fim_suffix><fim_prefix>x<|endoftext|>");
}

TEST_CASE("Decode rejects an id outside the vocabulary, naming it") {
  auto t = Make(CodeVocab());
  for (TokenId bad : {-1, 263, 1 << 30}) {
    auto text = t->Decode(Ids{Byte('a'), bad});
    REQUIRE_FALSE(text.ok());
    CHECK(text.status().message().find(std::to_string(bad)) != std::string::npos);
  }
}

TEST_CASE("Streamed pieces join to the whole decode, for every split of multibyte text") {
  auto t = Make(CodeVocab());
  const std::string text = " hi 日本語 😀 é\xF0\x9F x\xE2\x82";
  const Ids ids = t->Encode(text);
  const std::string whole = *t->Decode(ids);
  CHECK(whole == " hi 日本語 😀 é\uFFFD x\uFFFD");
  StreamDecoder stream(*t);
  std::string joined;
  for (TokenId id : ids) {
    auto piece = stream.Push(id);
    REQUIRE(piece.ok());
    // Every piece is valid UTF-8 on its own.
    CHECK(ToValidUtf8(*piece) == *piece);
    joined += *piece;
  }
  joined += stream.Finish();
  CHECK(joined == whole);
}

TEST_CASE("A bad id leaves the stream decoder as it was") {
  auto t = Make(CodeVocab());
  StreamDecoder stream(*t);
  CHECK(*stream.Push(0xE6) == "");  // first byte of 日
  CHECK_FALSE(stream.Push(9999).ok());
  CHECK(*stream.Push(0x97) == "");
  CHECK(*stream.Push(0xA5) == "日");
}

TEST_CASE("Inconsistent vocabularies are clear errors") {
  VocabConfig empty;
  auto e = Tokenizer::Create(empty);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("empty") != std::string::npos);

  VocabConfig kinds = CodeVocab();
  kinds.kinds.pop_back();
  REQUIRE_FALSE(Tokenizer::Create(kinds).ok());

  VocabConfig bos = CodeVocab();
  bos.bos = 100000;
  auto b = Tokenizer::Create(bos);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("bos_token_id") != std::string::npos);

  VocabConfig type = CodeVocab();
  type.kinds[5] = static_cast<TokenKind>(9);
  REQUIRE_FALSE(Tokenizer::Create(type).ok());
}

}  // namespace
}  // namespace cace
