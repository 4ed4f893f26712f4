#include "lib/tokenizer/utf8.h"

#include <cstdint>

namespace cace {
namespace {

// How many valid bytes of a well-formed sequence start at text[pos] (the whole sequence when
// `complete`), following the byte ranges of Unicode's Table 3-7. A result of 0 means the lead byte
// itself is ill-formed.
struct Prefix {
  std::size_t valid;
  bool complete;
};

Prefix ScanSequence(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<std::uint8_t>(text[pos]);
  if (lead < 0x80) return {1, true};
  std::size_t need;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return {0, false};
  }
  std::size_t n = 1;
  while (n < need && pos + n < text.size()) {
    const auto b = static_cast<std::uint8_t>(text[pos + n]);
    if (b < lo || b > hi) return {n, false};
    lo = 0x80;
    hi = 0xBF;
    ++n;
  }
  return {n, n == need};
}

}  // namespace

Utf8Char DecodeUtf8(std::string_view text, std::size_t pos) {
  const Prefix p = ScanSequence(text, pos);
  if (!p.complete) return {kInvalidCodepoint, 1};
  const auto lead = static_cast<std::uint8_t>(text[pos]);
  if (p.valid == 1) return {lead, 1};
  static constexpr std::uint8_t kLeadMask[] = {0, 0, 0x1F, 0x0F, 0x07};
  char32_t cp = lead & kLeadMask[p.valid];
  for (std::size_t i = 1; i < p.valid; ++i) {
    cp = (cp << 6) | (static_cast<std::uint8_t>(text[pos + i]) & 0x3Fu);
  }
  return {cp, p.valid};
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::size_t CompletePrefixLength(std::string_view bytes) {
  // A sequence is at most 4 bytes, so only a lead byte among the last 3 can be unfinished.
  const std::size_t from = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (std::size_t pos = from; pos < bytes.size(); ++pos) {
    const auto b = static_cast<std::uint8_t>(bytes[pos]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    const Prefix p = ScanSequence(bytes, pos);
    if (!p.complete && p.valid > 0 && pos + p.valid == bytes.size()) return pos;
  }
  return bytes.size();
}

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const Prefix p = ScanSequence(bytes, pos);
    if (p.complete) {
      out.append(bytes.substr(pos, p.valid));
      pos += p.valid;
    } else {
      AppendUtf8(0xFFFD, &out);
      pos += p.valid > 0 ? p.valid : 1;
    }
  }
  return out;
}

}  // namespace cace
