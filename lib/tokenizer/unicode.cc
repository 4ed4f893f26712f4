#include "lib/tokenizer/unicode.h"

#include <algorithm>
#include <iterator>

namespace cace {
namespace {

struct ClassRange {
  char32_t first;
  char32_t last;
  CodepointClass cls;
};

constexpr ClassRange kClassRanges[] = {
#include "lib/tokenizer/unicode_data.inc"
};

// ASCII is most of source code; a direct table keeps the common case off the binary search.
constexpr auto kAsciiClasses = [] {
  struct Table {
    CodepointClass cls[128] = {};
  } table;
  for (const ClassRange& r : kClassRanges) {
    for (char32_t cp = r.first; cp <= r.last && cp < 128; ++cp) table.cls[cp] = r.cls;
  }
  return table;
}();

}  // namespace

CodepointClass ClassOf(char32_t cp) {
  if (cp < 128) return kAsciiClasses.cls[cp];
  const auto* it = std::upper_bound(std::begin(kClassRanges), std::end(kClassRanges), cp,
                                    [](char32_t c, const ClassRange& r) { return c < r.first; });
  if (it == std::begin(kClassRanges)) return CodepointClass::kOther;
  --it;
  return cp <= it->last ? it->cls : CodepointClass::kOther;
}

bool IsWhitespace(char32_t cp) {
  // White_Space from PropList.txt; it has not changed since Unicode 6.3.
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace cace
