// GPT-2's byte-level alphabet: every byte stands for one printable code point, so that a BPE
// vocabulary of strings can hold any byte sequence. Bytes that are printable in Latin-1
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 take U+0100.. in byte order
// (so a space is 'Ġ', U+0120, and a newline 'Ċ', U+010A).
#ifndef CACE_LIB_TOKENIZER_BYTE_LEVEL_H_
#define CACE_LIB_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cace {

// The code point that stands for `byte`.
char32_t ByteToCodepoint(std::uint8_t byte);

// The byte a code point stands for, if it is one of the 256.
std::optional<std::uint8_t> CodepointToByte(char32_t cp);

// UTF-8 of the byte-level form of raw bytes.
std::string BytesToByteLevel(std::string_view bytes);

// Raw bytes of a byte-level string. A code point outside the alphabet (a token that was added as
// plain text) makes the whole string come back as it is, as Hugging Face's ByteLevel decoder does.
std::string ByteLevelToBytes(std::string_view text);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_BYTE_LEVEL_H_
