#include "lib/tokenizer/fim_prompt.h"

#include "absl/status/status.h"

namespace cace {

absl::StatusOr<std::vector<TokenId>> EncodeFimPrompt(const Tokenizer& tokenizer,
                                                     std::string_view prefix,
                                                     std::string_view suffix, bool add_bos) {
  const FimTokens& fim = tokenizer.fim();
  if (!fim.complete()) {
    return absl::FailedPreconditionError(
        "fill-in-the-middle prompt: the vocabulary has no prefix, suffix and middle tokens");
  }
  const EncodeOptions plain{.add_special = false, .parse_special = false};
  std::vector<TokenId> ids;
  if (add_bos && tokenizer.adds_bos() && tokenizer.bos()) ids.push_back(*tokenizer.bos());
  ids.push_back(*fim.prefix);
  const std::vector<TokenId> prefix_ids = tokenizer.Encode(prefix, plain);
  ids.insert(ids.end(), prefix_ids.begin(), prefix_ids.end());
  ids.push_back(*fim.suffix);
  std::vector<TokenId> suffix_ids = tokenizer.Encode(suffix, plain);
  if (tokenizer.model() == TokenizerModel::kSentencePiece && !suffix_ids.empty() &&
      tokenizer.TokenText(suffix_ids.front()) == "\xE2\x96\x81") {
    suffix_ids.erase(suffix_ids.begin());
  }
  ids.insert(ids.end(), suffix_ids.begin(), suffix_ids.end());
  ids.push_back(*fim.middle);
  return ids;
}

}  // namespace cace
