#include "lib/tokenizer/deepseek_llm_classes.h"

#include "lib/tokenizer/utf8.h"

namespace cace {

bool InRanges(std::span<const CodepointRange> ranges, char32_t cp) {
  // The punctuation class is written out of order, so a plain scan of its six ranges.
  for (const CodepointRange& r : ranges) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

std::string RangesAsRegexClass(std::span<const CodepointRange> ranges) {
  std::string out;
  for (const CodepointRange& r : ranges) {
    AppendUtf8(r.first, &out);
    if (r.last != r.first) {
      out.push_back('-');
      AppendUtf8(r.last, &out);
    }
  }
  return out;
}

}  // namespace cace
