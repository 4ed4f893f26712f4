// UTF-8 decoding that never fails: tokenizers see whatever bytes a request carries, so a byte that
// does not start a well-formed sequence is decoded as one unit of its own instead of an error.
#ifndef CACE_LIB_TOKENIZER_UTF8_H_
#define CACE_LIB_TOKENIZER_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace cace {

// Stands for an undecodable byte; above U+10FFFF, so no Unicode class or property matches it.
inline constexpr char32_t kInvalidCodepoint = 0x110000;

struct Utf8Char {
  char32_t cp;       // kInvalidCodepoint for an ill-formed byte
  std::size_t size;  // bytes taken from the text, 1..4
};

// Decodes the sequence starting at text[pos] (pos < text.size()).
Utf8Char DecodeUtf8(std::string_view text, std::size_t pos);

// Appends the UTF-8 encoding of a scalar value (cp <= U+10FFFF, not a surrogate).
void AppendUtf8(char32_t cp, std::string* out);

// Length of the longest prefix of `bytes` that does not end inside a sequence that more bytes
// could still complete; what lies past it is held back when streaming.
std::size_t CompletePrefixLength(std::string_view bytes);

// `bytes` with each maximal ill-formed subsequence replaced by U+FFFD (as Rust's
// String::from_utf8_lossy and Python's errors="replace" do), so output is always valid UTF-8.
std::string ToValidUtf8(std::string_view bytes);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_UTF8_H_
