// Expected strings are Python's unicodedata.normalize("NFC", ...) of the inputs.
#include "lib/tokenizer/nfc.h"

#include <catch2/catch.hpp>
#include <string>

#include "lib/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_vocabs.h"

namespace cace {
namespace {

TEST_CASE("NFC composes, reorders and leaves composed text alone") {
  CHECK(ToNfc("plain ascii") == "plain ascii");
  CHECK(ToNfc("e\u0301") == "\u00E9");                    // é
  CHECK(ToNfc("\u00E9") == "\u00E9");
  CHECK(ToNfc("A\u030A") == "\u00C5");                    // Å
  CHECK(ToNfc("\u212B") == "\u00C5");                     // ANGSTROM SIGN: singleton
  CHECK(ToNfc("q\u0323\u0307") == "q\u0323\u0307");       // nothing composes with q
  CHECK(ToNfc("q\u0307\u0323") == "q\u0323\u0307");       // canonical order
  CHECK(ToNfc("s\u0307\u0323") == "\u1E69");              // ṩ: both marks compose
  CHECK(ToNfc("\u1100\u1161\u11A8") == "\uAC01");         // Hangul L V T
  CHECK(ToNfc("\uAC00\u11A8") == "\uAC01");               // LV + T
  CHECK(ToNfc("\u0958") == "\u0915\u093C");               // composition exclusion stays apart
  CHECK(ToNfc("a\u0301\u0301") == "\u00E1\u0301");
  CHECK(ToNfc("\u0301e") == "\u0301e");                   // leading mark
}

TEST_CASE("NFC passes ill-formed bytes through and does not compose across them") {
  CHECK(ToNfc("e\xFF\u0301") == "e\xFF\u0301");
  CHECK(ToNfc("\xC3\u00E9") == "\xC3\u00E9");
}

TEST_CASE("Combining classes come from the Unicode data") {
  CHECK(CombiningClass('a') == 0);
  CHECK(CombiningClass(0x0301) == 230);
  CHECK(CombiningClass(0x0323) == 220);
  CHECK(CombiningClass(0x093C) == 7);
}

TEST_CASE("A tokenizer with NFC encodes decomposed and composed text alike") {
  VocabConfig c = testing::ByteLevelVocab({}, {}, PreTokenizerKind::kQwen2);
  c.normalize_nfc = true;
  auto t = Tokenizer::Create(c);
  REQUIRE(t.ok());
  CHECK((*t)->Encode("cafe\u0301") == (*t)->Encode("caf\u00E9"));
  c.normalize_nfc = false;
  auto raw = Tokenizer::Create(c);
  REQUIRE(raw.ok());
  CHECK((*raw)->Encode("cafe\u0301") != (*raw)->Encode("caf\u00E9"));
}

}  // namespace
}  // namespace cace
