#include "lib/tokenizer/fim.h"

#include <initializer_list>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace cace {

FimTokens FindFimTokens(const std::vector<std::string>& tokens, const FimTokens& given) {
  absl::flat_hash_map<std::string_view, TokenId> ids;
  for (std::size_t i = 0; i < tokens.size(); ++i) ids.try_emplace(tokens[i], static_cast<TokenId>(i));
  auto find = [&](std::initializer_list<std::string_view> spellings) -> std::optional<TokenId> {
    // A name in the vocabulary is the fallback for an id the file did not give.
    for (std::string_view s : spellings) {
      const auto it = ids.find(s);
      if (it != ids.end()) return it->second;
    }
    return std::nullopt;
  };
  // Qwen2.5-Coder, StarCoder, DeepSeek-Coder, CodeLlama (▁<PRE> in SentencePiece, <PRE> in GGUFs
  // converted from tokenizer.json), CodeGemma.
  FimTokens fim = given;
  if (!fim.prefix) fim.prefix = find({"<|fim_prefix|>", "<fim_prefix>", "<｜fim▁begin｜>", "▁<PRE>", "<PRE>",
                     "<|fim_begin|>", "<fim-prefix>"});
  if (!fim.suffix) fim.suffix = find({"<|fim_suffix|>", "<fim_suffix>", "<｜fim▁hole｜>", "▁<SUF>", "<SUF>",
                     "<|fim_hole|>", "<fim-suffix>"});
  if (!fim.middle) fim.middle = find({"<|fim_middle|>", "<fim_middle>", "<｜fim▁end｜>", "▁<MID>", "<MID>",
                     "<|fim_end|>", "<fim-middle>"});
  if (!fim.pad) fim.pad = find({"<|fim_pad|>", "<fim_pad>", "<fim-pad>"});
  if (!fim.repo_name) fim.repo_name = find({"<|repo_name|>", "<repo_name>", "<reponame>"});
  if (!fim.file_sep) fim.file_sep = find({"<|file_sep|>", "<file_sep>"});
  if (!fim.end_of_turn) fim.end_of_turn = find({"▁<EOT>", "<EOT>", "<|EOT|>", "<|eot_id|>", "<|im_end|>"});
  return fim;
}

}  // namespace cace
