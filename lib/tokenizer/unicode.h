// Unicode facts the pre-tokenizers need: the coarse general category of a code point (what the
// regex classes \p{L}, \p{N}, \p{P} test) and the White_Space property (what \s tests).
#ifndef CACE_LIB_TOKENIZER_UNICODE_H_
#define CACE_LIB_TOKENIZER_UNICODE_H_

#include <cstdint>

namespace cace {

// General category by its first letter; kOther covers C* (controls, format, unassigned, ...).
enum class CodepointClass : std::uint8_t {
  kOther,
  kLetter,
  kNumber,
  kPunctuation,
  kMark,
  kSymbol,
  kSeparator,
};

// Class of `cp`; anything past U+10FFFF (an undecodable byte, see utf8.h) is kOther.
CodepointClass ClassOf(char32_t cp);

// The Unicode White_Space property, which is what \s matches in Oniguruma and in Rust's regex.
// (Python's str.isspace differs: it also counts U+001C..U+001F.)
bool IsWhitespace(char32_t cp);

inline bool IsLetter(char32_t cp) { return ClassOf(cp) == CodepointClass::kLetter; }
inline bool IsNumber(char32_t cp) { return ClassOf(cp) == CodepointClass::kNumber; }
inline bool IsPunctuation(char32_t cp) { return ClassOf(cp) == CodepointClass::kPunctuation; }

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_UNICODE_H_
