#include "lib/tokenizer/bpe.h"

#include <queue>
#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/strings.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

struct Symbol {
  TokenId id;  // -1 once merged into its left neighbour, or for a byte with no token
  int prev;
  int next;
};

struct Candidate {
  std::uint32_t rank;
  int left;  // index of the left symbol
  TokenId left_id;
  TokenId right_id;
  TokenId result;
  // std::priority_queue is a max-heap: "less" means lower priority, i.e. higher rank, then
  // further right.
  bool operator<(const Candidate& o) const {
    return rank != o.rank ? rank > o.rank : left > o.left;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    const absl::flat_hash_map<std::string, TokenId>& ids,
    const std::vector<std::pair<std::string, std::string>>& merges,
    std::optional<TokenId> unknown, bool ignore_merges) {
  std::unique_ptr<BpeModel> model(new BpeModel());
  for (unsigned b = 0; b < 256; ++b) {
    std::string text;
    AppendUtf8(ByteToCodepoint(static_cast<std::uint8_t>(b)), &text);
    const auto it = ids.find(text);
    model->byte_tokens_[b] = it == ids.end() ? -1 : it->second;
  }
  model->merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = ids.find(left);
    const auto r = ids.find(right);
    const auto m = ids.find(left + right);
    if (l == ids.end() || r == ids.end() || m == ids.end()) {
      return absl::InvalidArgumentError(
          fmt::format("tokenizer merges[{}]: '{} {}' names a token missing from the vocabulary",
                      rank, left, right));
    }
    // A later duplicate of a merge has no effect: the first (lowest) rank wins.
    model->merges_.try_emplace(PairKey(l->second, r->second),
                               MergeRule{static_cast<std::uint32_t>(rank), m->second});
  }
  model->unknown_ = unknown;
  if (ignore_merges) model->whole_tokens_ = &ids;
  return model;
}

void BpeModel::EncodePiece(std::string_view piece, std::vector<TokenId>* out) const {
  if (piece.empty()) return;
  const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(ToAbsl(piece));
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<TokenId> ids;
  if (whole_tokens_ != nullptr) {
    const auto it = whole_tokens_->find(BytesToByteLevel(piece));
    if (it != whole_tokens_->end()) ids.push_back(it->second);
  }
  if (ids.empty()) ApplyMerges(piece, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  if (!cacheable) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.try_emplace(std::string(piece), std::move(ids));
}

void BpeModel::ApplyMerges(std::string_view piece, std::vector<TokenId>* out) const {
  const int n = static_cast<int>(piece.size());
  std::vector<Symbol> symbols(piece.size());
  for (int i = 0; i < n; ++i) {
    symbols[i] = {byte_tokens_[static_cast<std::uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    if (a.id < 0 || b.id < 0) return;
    const auto it = merges_.find(PairKey(a.id, b.id));
    if (it != merges_.end()) queue.push({it->second.rank, left, a.id, b.id, it->second.result});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& a = symbols[c.left];
    // Stale when either side has merged since: a symbol's text only grows, so its id changes.
    if (a.id != c.left_id || a.next < 0 || symbols[a.next].id != c.right_id) continue;
    const int right = a.next;
    a.id = c.result;
    a.next = symbols[right].next;
    if (a.next >= 0) symbols[a.next].prev = c.left;
    symbols[right].id = -1;
    symbols[right].next = -1;
    consider(a.prev);
    consider(c.left);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) {
    if (symbols[i].id >= 0) {
      out->push_back(symbols[i].id);
    } else if (unknown_) {
      out->push_back(*unknown_);
    }
  }
}

}  // namespace cace
