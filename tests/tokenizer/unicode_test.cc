#include <catch2/catch.hpp>
#include <string>

#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/unicode.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

TEST_CASE("Code point classes match Unicode general categories") {
  CHECK(ClassOf('a') == CodepointClass::kLetter);
  CHECK(ClassOf(U'é') == CodepointClass::kLetter);
  CHECK(ClassOf(U'你') == CodepointClass::kLetter);
  CHECK(ClassOf(0x1780) == CodepointClass::kLetter);  // KHMER LETTER KA
  CHECK(ClassOf(0x17D2) == CodepointClass::kMark);    // KHMER SIGN COENG
  CHECK(ClassOf('7') == CodepointClass::kNumber);
  CHECK(ClassOf(U'½') == CodepointClass::kNumber);
  CHECK(ClassOf(0x0663) == CodepointClass::kNumber);  // ARABIC-INDIC DIGIT THREE
  CHECK(ClassOf('!') == CodepointClass::kPunctuation);
  CHECK(ClassOf('_') == CodepointClass::kPunctuation);
  CHECK(ClassOf('$') == CodepointClass::kSymbol);
  CHECK(ClassOf('=') == CodepointClass::kSymbol);
  CHECK(ClassOf(0x1F600) == CodepointClass::kSymbol);  // 😀
  CHECK(ClassOf(' ') == CodepointClass::kSeparator);
  CHECK(ClassOf('\n') == CodepointClass::kOther);
  CHECK(ClassOf(0x10FFFF) == CodepointClass::kOther);
  CHECK(ClassOf(kInvalidCodepoint) == CodepointClass::kOther);
}

TEST_CASE("Whitespace is the White_Space property") {
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u2003',
                     U'\u3000', U'\u2028'}) {
    CHECK(IsWhitespace(c));
  }
  for (char32_t c : {U'a', U'\u001C', U'\u200B', U'_', char32_t{0}}) CHECK_FALSE(IsWhitespace(c));
}

TEST_CASE("UTF-8 decoding takes one byte per ill-formed unit") {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xC3(\xED\xA0\x80\xF8";
  std::u32string cps;
  for (std::size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8(text, pos);
    cps.push_back(c.cp);
    pos += c.size;
  }
  const char32_t x = kInvalidCodepoint;
  CHECK(cps == std::u32string{U'a', U'é', U'€', U'😀', x, U'(', x, x, x, x});
}

TEST_CASE("Lossy conversion replaces each maximal ill-formed subpart") {
  CHECK(ToValidUtf8("ok") == "ok");
  CHECK(ToValidUtf8("a\xF0\x9F\x98") == "a\uFFFD");          // truncated 4-byte sequence
  CHECK(ToValidUtf8("\xF0\x9F\x98" "b") == "\uFFFD" "b");
  CHECK(ToValidUtf8("\xC0\xAF") == "\uFFFD\uFFFD");          // overlong
  CHECK(ToValidUtf8("\xED\xA0\x80") == "\uFFFD\uFFFD\uFFFD");  // surrogate
}

TEST_CASE("Complete prefix holds back only an unfinished sequence") {
  CHECK(CompletePrefixLength("abc") == 3);
  CHECK(CompletePrefixLength("ab\xE2\x82") == 2);
  CHECK(CompletePrefixLength("ab\xE2\x82\xAC") == 5);
  CHECK(CompletePrefixLength("\xF0\x9F\x98") == 0);
  CHECK(CompletePrefixLength("a\xFF") == 2);      // never completes: not held
  CHECK(CompletePrefixLength("a\xE2(") == 3);     // already broken: not held
}

TEST_CASE("Byte-level alphabet round-trips every byte") {
  CHECK(ByteToCodepoint(' ') == U'Ġ');
  CHECK(ByteToCodepoint('\n') == U'Ċ');
  CHECK(ByteToCodepoint('a') == U'a');
  CHECK(ByteToCodepoint(0xAD) == 0x143);
  for (unsigned b = 0; b < 256; ++b) {
    CHECK(CodepointToByte(ByteToCodepoint(static_cast<std::uint8_t>(b))) == b);
  }
  std::string all;
  for (unsigned b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(ByteLevelToBytes(BytesToByteLevel(all)) == all);
  CHECK(ByteLevelToBytes("<|endoftext|>") == "<|endoftext|>");
  CHECK(ByteLevelToBytes("ĠhelloĊ") == " hello\n");
  CHECK(ByteLevelToBytes("a\u4E00") == "a\u4E00");  // not byte-level: kept as written
}

}  // namespace
}  // namespace cace
