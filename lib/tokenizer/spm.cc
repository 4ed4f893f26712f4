#include "lib/tokenizer/spm.h"

#include <cstdio>
#include <queue>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "lib/tokenizer/strings.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

struct Symbol {
  std::size_t offset;
  std::size_t size;  // 0 once merged into its left neighbour
  int prev;
  int next;
};

struct Candidate {
  float score;
  int left;
  std::size_t size;  // bytes of the merged piece, to notice a stale entry
  bool operator<(const Candidate& o) const {
    return score != o.score ? score < o.score : left > o.left;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<SpmModel>> SpmModel::Create(const VocabConfig& config) {
  const bool ranked = config.scores.empty() && !config.merges.empty();
  if (!ranked && config.scores.size() != config.tokens.size()) {
    return absl::InvalidArgumentError(fmt::format("tokenizer.ggml.scores: {} scores for {} tokens",
                                                  config.scores.size(), config.tokens.size()));
  }
  std::unique_ptr<SpmModel> model(new SpmModel());
  model->byte_tokens_.fill(-1);
  for (std::size_t i = 0; i < config.tokens.size(); ++i) {
    const TokenKind kind = config.kinds.empty() ? TokenKind::kNormal : config.kinds[i];
    const auto id = static_cast<TokenId>(i);
    const std::string& text = config.tokens[i];
    if (kind == TokenKind::kByte) {
      unsigned byte = 0;
      char tail = 0;
      if (text.size() != 6 || std::sscanf(text.c_str(), "<0x%2X>%c", &byte, &tail) != 1) {
        return absl::InvalidArgumentError(fmt::format(
            "tokenizer.ggml.tokens[{}]: byte token '{}' is not of the form <0xNN>", i, text));
      }
      model->byte_tokens_[byte] = id;
    } else if (kind == TokenKind::kNormal || kind == TokenKind::kUserDefined) {
      model->pieces_.try_emplace(text, Piece{id, ranked ? 0.0f : config.scores[i]});
    }
  }
  if (ranked) {
    for (std::size_t rank = 0; rank < config.merges.size(); ++rank) {
      const auto& [left, right] = config.merges[rank];
      // A later duplicate of a merge has no effect: the first (lowest) rank wins.
      model->merge_scores_.try_emplace(left + '\0' + right, -static_cast<float>(rank));
    }
  }
  model->unknown_ = config.unknown;
  return model;
}

void SpmModel::Encode(std::string_view text, std::vector<TokenId>* out) const {
  std::vector<Symbol> symbols;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t size = DecodeUtf8(text, pos).size;
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({pos, size, index - 1, -1});
    if (index > 0) symbols[index - 1].next = index;
    pos += size;
  }
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    const std::optional<float> score = MergeScore(text, a.offset, a.size, b.size);
    if (score) queue.push({*score, left, a.size + b.size});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& a = symbols[c.left];
    // Stale when either side changed since: then the pair no longer spans c.size bytes.
    if (a.size == 0 || a.next < 0 || a.size + symbols[a.next].size != c.size) continue;
    Symbol& b = symbols[a.next];
    a.size += b.size;
    a.next = b.next;
    if (a.next >= 0) symbols[a.next].prev = c.left;
    b.size = 0;
    consider(a.prev);
    consider(c.left);
  }
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    AppendSymbol(text.substr(symbols[i].offset, symbols[i].size), out);
  }
}

std::optional<float> SpmModel::MergeScore(std::string_view text, std::size_t at, std::size_t left,
                                          std::size_t right) const {
  if (merge_scores_.empty()) {
    // Adjacent symbols: their concatenation is a substring of the text, no copy needed.
    const auto it = pieces_.find(ToAbsl(text.substr(at, left + right)));
    if (it == pieces_.end()) return std::nullopt;
    return it->second.score;
  }
  std::string key(text.substr(at, left));
  key.push_back('\0');
  key.append(text.substr(at + left, right));
  const auto it = merge_scores_.find(key);
  if (it == merge_scores_.end()) return std::nullopt;
  return it->second;
}

void SpmModel::AppendSymbol(std::string_view symbol, std::vector<TokenId>* out) const {
  const auto it = pieces_.find(ToAbsl(symbol));
  if (it != pieces_.end()) {
    out->push_back(it->second.id);
    return;
  }
  for (char c : symbol) {
    const TokenId byte = byte_tokens_[static_cast<std::uint8_t>(c)];
    if (byte >= 0) {
      out->push_back(byte);
    } else if (unknown_) {
      out->push_back(*unknown_);
    }
  }
}

}  // namespace cace
