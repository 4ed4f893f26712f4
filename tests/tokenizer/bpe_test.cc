#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_vocabs.h"

namespace cace {
namespace {

using testing::Byte;
using testing::ByteLevelVocab;
using Ids = std::vector<TokenId>;

std::unique_ptr<Tokenizer> Make(VocabConfig config) {
  auto t = Tokenizer::Create(std::move(config));
  REQUIRE(t.ok());
  return *std::move(t);
}

TEST_CASE("BPE applies merges by rank, not by position") {
  // 256 "ab", 257 "bc", 258 "abc"
  auto t = Make(ByteLevelVocab({"ab", "bc", "abc"}, {{"b", "c"}, {"a", "b"}, {"ab", "c"}}));
  // "b c" ranks first, and no merge joins "a" with "bc".
  CHECK(t->Encode("abc") == Ids{Byte('a'), 257});
  CHECK(t->Encode("abx") == Ids{256, Byte('x')});

  auto u = Make(ByteLevelVocab({"ab", "bc", "abc"}, {{"a", "b"}, {"b", "c"}, {"ab", "c"}}));
  CHECK(u->Encode("abc") == Ids{258});
}

TEST_CASE("BPE breaks rank ties leftmost first") {
  auto t = Make(ByteLevelVocab({"aa"}, {{"a", "a"}}));
  CHECK(t->Encode("aaa") == Ids{256, Byte('a')});
  CHECK(t->Encode("aaaa") == Ids{256, 256});
}

TEST_CASE("BPE encodes each pre-token on its own, in the byte-level alphabet") {
  // "Ġw" (space + w) only merges within " w...", never across the piece boundary.
  auto t = Make(ByteLevelVocab({"Ġw", "Ġwo", "ow"}, {{"Ġ", "w"}, {"Ġw", "o"}, {"o", "w"}}));
  CHECK(t->Encode("ow wo") == Ids{258, 257});
  CHECK(t->Encode("o\nw") == Ids{Byte('o'), Byte('\n'), Byte('w')});
  // Repeated pieces come from the cache and must give the same ids.
  CHECK(t->Encode("wo wo wo") == Ids{Byte('w'), Byte('o'), 257, 257});
}

TEST_CASE("Llama 3 takes a pre-token that is a token whole; other kinds only merge") {
  // "abc" is a token, but no merge builds it.
  auto llama3 = Make(ByteLevelVocab({"ab", "abc"}, {{"a", "b"}}, PreTokenizerKind::kLlama3));
  CHECK(llama3->Encode("abc") == Ids{257});
  CHECK(llama3->Encode("abcd") == Ids{256, Byte('c'), Byte('d')});
  auto qwen2 = Make(ByteLevelVocab({"ab", "abc"}, {{"a", "b"}}, PreTokenizerKind::kQwen2));
  CHECK(qwen2->Encode("abc") == Ids{256, Byte('c')});
}

TEST_CASE("A byte missing from the vocabulary is dropped, or becomes the unknown token") {
  VocabConfig c = ByteLevelVocab({"<unk>"}, {});
  c.tokens[0xFF] = "unused-byte-ff";
  auto no_unk = Make(c);
  CHECK(no_unk->Encode("a\xFF" "b") == Ids{Byte('a'), Byte('b')});
  c.unknown = 256;
  auto with_unk = Make(c);
  CHECK(with_unk->Encode("a\xFF" "b") == Ids{Byte('a'), 256, Byte('b')});
}

TEST_CASE("A merge naming a missing token is an error naming the merge") {
  auto t = Tokenizer::Create(ByteLevelVocab({"ab"}, {{"a", "b"}, {"ab", "zz"}}));
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().find("merges[1]") != std::string::npos);
}

TEST_CASE("Byte-level decode returns the original bytes") {
  auto t = Make(ByteLevelVocab({"Ġhello", "ĊĠ"}, {}));
  auto text = t->Decode(Ids{256, 257, Byte('x')});
  REQUIRE(text.ok());
  CHECK(*text == " hello\n x");
  const std::string source = "int main() {\n\treturn 0; // ✓ 日本語\n}\n";
  auto round = t->Decode(t->Encode(source));
  REQUIRE(round.ok());
  CHECK(*round == source);
}

}  // namespace
}  // namespace cace
