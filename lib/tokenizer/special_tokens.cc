#include "lib/tokenizer/special_tokens.h"

#include <algorithm>
#include <cstdint>

namespace cace {

SpecialTokenMatcher::SpecialTokenMatcher(const VocabConfig& config) {
  for (std::size_t i = 0; i < config.tokens.size() && i < config.kinds.size(); ++i) {
    const TokenKind kind = config.kinds[i];
    if (kind != TokenKind::kControl && kind != TokenKind::kUserDefined &&
        kind != TokenKind::kUnknown) {
      continue;
    }
    if (config.tokens[i].empty()) continue;
    entries_.push_back({config.tokens[i], static_cast<TokenId>(i)});
  }
  for (int i = 0; i < static_cast<int>(entries_.size()); ++i) {
    by_first_byte_[static_cast<std::uint8_t>(entries_[i].text[0])].push_back(i);
  }
  for (std::vector<int>& list : by_first_byte_) {
    std::stable_sort(list.begin(), list.end(), [this](int a, int b) {
      return entries_[a].text.size() > entries_[b].text.size();
    });
  }
}

std::vector<SpecialTokenMatcher::Fragment> SpecialTokenMatcher::Split(
    std::string_view text) const {
  std::vector<Fragment> out;
  std::size_t plain = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Entry* found = nullptr;
    for (int index : by_first_byte_[static_cast<std::uint8_t>(text[pos])]) {
      if (text.substr(pos).starts_with(entries_[index].text)) {
        found = &entries_[index];
        break;
      }
    }
    if (found == nullptr) {
      ++pos;
      continue;
    }
    if (plain < pos) out.push_back({text.substr(plain, pos - plain), -1});
    out.push_back({text.substr(pos, found->text.size()), found->id});
    pos += found->text.size();
    plain = pos;
  }
  if (plain < text.size()) out.push_back({text.substr(plain), -1});
  return out;
}

}  // namespace cace
