// SentencePiece BPE (Llama 2, CodeLlama): start from one symbol per character and merge the
// adjacent pair whose concatenation is the vocabulary piece of highest score (leftmost on ties)
// until no pair forms a piece. A final symbol that is no piece falls back to its bytes as
// <0xNN> tokens. The text given has spaces already written as ▁ (U+2581).
// A tokenizer.json holds no scores but ranked merges instead; then a pair may merge only when it
// is listed, and the lower rank goes first (Hugging Face's BPE with byte_fallback).
#ifndef CACE_LIB_TOKENIZER_SPM_H_
#define CACE_LIB_TOKENIZER_SPM_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/tokenizer/vocab.h"

namespace cace {

class SpmModel {
 public:
  // Only normal and user-defined tokens take part in merges; byte tokens serve the fallback.
  // Uses config.scores when there are any, else config.merges.
  static absl::StatusOr<std::unique_ptr<SpmModel>> Create(const VocabConfig& config);

  void Encode(std::string_view text, std::vector<TokenId>* out) const;

 private:
  struct Piece {
    TokenId id;
    float score;
  };
  SpmModel() = default;
  void AppendSymbol(std::string_view symbol, std::vector<TokenId>* out) const;
  // Priority of merging the adjacent symbols text[at, at + left) and text[at + left, at + left +
  // right) (higher first), or nullopt when they do not merge.
  std::optional<float> MergeScore(std::string_view text, std::size_t at, std::size_t left,
                                  std::size_t right) const;

  absl::flat_hash_map<std::string, Piece> pieces_;
  // Ranked merges, keyed by left + '\0' + right; empty when pieces are scored.
  absl::flat_hash_map<std::string, float> merge_scores_;
  std::array<TokenId, 256> byte_tokens_{};  // -1 where <0xNN> is missing
  std::optional<TokenId> unknown_;
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_SPM_H_
