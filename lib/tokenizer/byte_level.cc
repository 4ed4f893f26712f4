#include "lib/tokenizer/byte_level.h"

#include <array>

#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

constexpr bool StandsForItself(unsigned b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<char32_t, 256> kByteToCodepoint = [] {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (unsigned b = 0; b < 256; ++b) table[b] = StandsForItself(b) ? b : next++;
  return table;
}();

// Inverse of kByteToCodepoint over U+0000..U+0143, -1 where no byte maps.
constexpr std::array<std::int16_t, 256 + 68> kCodepointToByte = [] {
  std::array<std::int16_t, 256 + 68> table{};
  table.fill(-1);
  for (unsigned b = 0; b < 256; ++b) table[kByteToCodepoint[b]] = static_cast<std::int16_t>(b);
  return table;
}();

}  // namespace

char32_t ByteToCodepoint(std::uint8_t byte) { return kByteToCodepoint[byte]; }

std::optional<std::uint8_t> CodepointToByte(char32_t cp) {
  if (cp >= kCodepointToByte.size() || kCodepointToByte[cp] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(kCodepointToByte[cp]);
}

std::string BytesToByteLevel(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(kByteToCodepoint[static_cast<std::uint8_t>(c)], &out);
  return out;
}

std::string ByteLevelToBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8(text, pos);
    const std::optional<std::uint8_t> byte = CodepointToByte(c.cp);
    if (!byte) return std::string(text);
    out.push_back(static_cast<char>(*byte));
    pos += c.size;
  }
  return out;
}

}  // namespace cace
