#include "lib/tokenizer/nfc.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

struct ClassRange {
  char32_t first;
  char32_t last;
  std::uint8_t ccc;
};
struct Decomposition {
  char32_t cp;
  char32_t first;
  char32_t second;  // 0 for a singleton
};
struct Composition {
  char32_t first;
  char32_t second;
  char32_t composite;
};

constexpr ClassRange kCombiningClasses[] = {
#define CACE_NFC_COMBINING_CLASSES
#include "lib/tokenizer/nfc_data.inc"
#undef CACE_NFC_COMBINING_CLASSES
};
constexpr Decomposition kDecompositions[] = {
#define CACE_NFC_DECOMPOSITIONS
#include "lib/tokenizer/nfc_data.inc"
#undef CACE_NFC_DECOMPOSITIONS
};
constexpr Composition kCompositions[] = {
#define CACE_NFC_COMPOSITIONS
#include "lib/tokenizer/nfc_data.inc"
#undef CACE_NFC_COMPOSITIONS
};

// Hangul syllables decompose and compose by arithmetic (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;
constexpr char32_t kSCount = kLCount * kNCount;

// An ill-formed byte b is carried as kRawByte + b: past U+10FFFF, a starter that nothing
// decomposes or composes.
constexpr char32_t kRawByte = 0x110000;

void Decompose(char32_t cp, std::u32string* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const auto* it = std::lower_bound(std::begin(kDecompositions), std::end(kDecompositions), cp,
                                    [](const Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == std::end(kDecompositions) || it->cp != cp) {
    out->push_back(cp);
    return;
  }
  Decompose(it->first, out);
  if (it->second != 0) Decompose(it->second, out);
}

char32_t Compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* it = std::lower_bound(
      std::begin(kCompositions), std::end(kCompositions), std::pair{first, second},
      [](const Composition& c, const std::pair<char32_t, char32_t>& key) {
        return c.first != key.first ? c.first < key.first : c.second < key.second;
      });
  if (it == std::end(kCompositions) || it->first != first || it->second != second) return 0;
  return it->composite;
}

}  // namespace

int CombiningClass(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* it = std::upper_bound(std::begin(kCombiningClasses), std::end(kCombiningClasses), cp,
                                    [](char32_t c, const ClassRange& r) { return c < r.first; });
  if (it == std::begin(kCombiningClasses)) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

std::string ToNfc(std::string_view text) {
  // All-ASCII text is in NFC already: nothing in it decomposes, and no mark follows to compose.
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return std::string(text);
  }
  std::u32string cps;
  cps.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeUtf8(text, pos);
    if (c.cp == kInvalidCodepoint) {
      cps.push_back(kRawByte + static_cast<unsigned char>(text[pos]));
    } else {
      Decompose(c.cp, &cps);
    }
    pos += c.size;
  }
  // Canonical order: a stable sort by combining class of each run of non-starters.
  for (std::size_t i = 0; i < cps.size();) {
    if (CombiningClass(cps[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < cps.size() && CombiningClass(cps[end]) != 0) ++end;
    std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i),
                     cps.begin() + static_cast<std::ptrdiff_t>(end),
                     [](char32_t a, char32_t b) { return CombiningClass(a) < CombiningClass(b); });
    i = end;
  }
  // Canonical composition: each character joins the last starter unless a character between them
  // blocks it (one of class 0, or of a class not lower than its own).
  std::u32string composed;
  composed.reserve(cps.size());
  std::ptrdiff_t starter = -1;
  int last_class = -1;  // class of the last character kept after the starter; -1: none yet
  for (char32_t c : cps) {
    const int cc = c >= kRawByte ? 0 : CombiningClass(c);
    if (starter >= 0 && (last_class == -1 || last_class < cc) && c < kRawByte) {
      const char32_t merged = Compose(composed[starter], c);
      if (merged != 0) {
        composed[starter] = merged;
        continue;
      }
    }
    if (cc == 0) {
      starter = c >= kRawByte ? -1 : static_cast<std::ptrdiff_t>(composed.size());
      last_class = -1;
    } else {
      last_class = cc;
    }
    composed.push_back(c);
  }
  std::string out;
  out.reserve(text.size());
  for (char32_t c : composed) {
    if (c >= kRawByte) {
      out.push_back(static_cast<char>(c - kRawByte));
    } else {
      AppendUtf8(c, &out);
    }
  }
  return out;
}

}  // namespace cace
