// Byte-level BPE over one pre-token: start from one symbol per byte and apply the merge of lowest
// rank among adjacent pairs (leftmost on ties) until none applies, as Hugging Face's BPE model
// does. Results are cached per piece, since source code repeats its words.
#ifndef CACE_LIB_TOKENIZER_BPE_H_
#define CACE_LIB_TOKENIZER_BPE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/tokenizer/vocab.h"

namespace cace {

class BpeModel {
 public:
  // `ids` maps token text (byte-level form) to id. Every merge must name two tokens whose
  // concatenation is a token too. With `ignore_merges` (Llama 3), a pre-token that is itself a
  // token is taken whole, before any merge; `ids` must then outlive the model.
  static absl::StatusOr<std::unique_ptr<BpeModel>> Create(
      const absl::flat_hash_map<std::string, TokenId>& ids,
      const std::vector<std::pair<std::string, std::string>>& merges,
      std::optional<TokenId> unknown, bool ignore_merges);

  // Appends the ids of one pre-token given as raw bytes. A byte with no token becomes the
  // unknown token, or is dropped when the vocabulary has none (Hugging Face does the same).
  void EncodePiece(std::string_view piece, std::vector<TokenId>* out) const;

 private:
  struct MergeRule {
    std::uint32_t rank;
    TokenId result;
  };

  BpeModel() = default;
  void ApplyMerges(std::string_view piece, std::vector<TokenId>* out) const;

  static std::uint64_t PairKey(TokenId left, TokenId right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }

  std::array<TokenId, 256> byte_tokens_{};  // -1 where the vocabulary lacks the byte
  absl::flat_hash_map<std::uint64_t, MergeRule> merges_;
  std::optional<TokenId> unknown_;
  const absl::flat_hash_map<std::string, TokenId>* whole_tokens_ = nullptr;  // ignore_merges

  static constexpr std::size_t kMaxCacheEntries = 1 << 16;
  // Longer pieces (a whitespace run, a base64 blob) rarely repeat and would crowd the cache.
  static constexpr std::size_t kMaxCachedPieceBytes = 256;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks even where Abseil is
  // a prebuilt library, so races in this cache stay checkable.
  mutable std::mutex cache_mutex_;
  mutable absl::flat_hash_map<std::string, std::vector<TokenId>> cache_;  // under cache_mutex_
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_BPE_H_
