// Tokenizer::FromTokenizerData: the loader's TokenizerData (GGUF metadata or tokenizer.json) to a
// VocabConfig.
#include <cstdio>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "lib/loader/tokenizer_data.h"
#include "lib/tokenizer/pre_tokenizer_json.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {
namespace {

bool IsByteTokenText(const std::string& text) {
  unsigned byte = 0;
  return text.size() == 6 && std::sscanf(text.c_str(), "<0x%2X>", &byte) == 1;
}

absl::StatusOr<TokenKind> KindOf(TokenType type, std::size_t index) {
  switch (type) {
    case TokenType::kUndefined:  // files that leave the type out mean a plain token
    case TokenType::kNormal:
      return TokenKind::kNormal;
    case TokenType::kUnknown:
      return TokenKind::kUnknown;
    case TokenType::kControl:
      return TokenKind::kControl;
    case TokenType::kUserDefined:
      return TokenKind::kUserDefined;
    case TokenType::kUnused:
      return TokenKind::kUnused;
    case TokenType::kByte:
      return TokenKind::kByte;
  }
  return absl::InvalidArgumentError(fmt::format("tokenizer.ggml.token_type[{}]: unknown type {}",
                                                index, static_cast<int>(type)));
}

absl::StatusOr<PreTokenizerKind> PreTokenizerOf(const TokenizerData& data) {
  if (!data.pre.empty()) return PreTokenizerFromName(data.pre);
  if (!data.pre_tokenizer_json.empty()) return PreTokenizerFromJson(data.pre_tokenizer_json);
  // A GGUF without tokenizer.ggml.pre predates the key; llama.cpp then uses the GPT-2 split.
  return PreTokenizerKind::kGpt2;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromTokenizerData(const TokenizerData& data) {
  VocabConfig config;
  if (data.model == "gpt2") {
    config.model = TokenizerModel::kByteLevelBpe;
    absl::StatusOr<PreTokenizerKind> pre = PreTokenizerOf(data);
    if (!pre.ok()) return pre.status();
    config.pre_tokenizer = *pre;
    // Qwen2's tokenizer.json normalizes with NFC, which neither GGUF nor TokenizerData records;
    // its pre-tokenizer is what tells Qwen2 vocabularies apart.
    config.normalize_nfc = *pre == PreTokenizerKind::kQwen2;
  } else if (data.model == "llama") {
    config.model = TokenizerModel::kSentencePiece;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "tokenizer.ggml.model: unsupported tokenizer model '{}' (supported: gpt2, llama)",
        data.model));
  }
  config.tokens = data.tokens;
  config.scores = data.scores;
  config.merges = data.merges;
  config.kinds.reserve(data.token_types.size());
  for (std::size_t i = 0; i < data.token_types.size(); ++i) {
    absl::StatusOr<TokenKind> kind = KindOf(data.token_types[i], i);
    if (!kind.ok()) return kind.status();
    config.kinds.push_back(*kind);
  }
  if (config.model == TokenizerModel::kSentencePiece) {
    // A tokenizer.json keeps byte-fallback tokens among the plain ones, and ranks merges instead
    // of scoring pieces.
    if (config.kinds.empty()) config.kinds.assign(config.tokens.size(), TokenKind::kNormal);
    for (std::size_t i = 0; i < config.tokens.size(); ++i) {
      if (config.kinds[i] == TokenKind::kNormal && IsByteTokenText(config.tokens[i])) {
        config.kinds[i] = TokenKind::kByte;
      }
    }
  }
  config.bos = data.bos_id;
  config.eos = data.eos_id;
  config.unknown = data.unknown_id;
  config.padding = data.padding_id;
  // llama.cpp's defaults when the file does not say: SentencePiece vocabularies add BOS.
  config.add_bos = data.add_bos.value_or(config.model == TokenizerModel::kSentencePiece);
  config.add_eos = data.add_eos.value_or(false);
  config.fim.prefix = data.fim_prefix_id;
  config.fim.suffix = data.fim_suffix_id;
  config.fim.middle = data.fim_middle_id;
  config.fim.pad = data.fim_pad_id;
  config.fim.end_of_turn = data.eot_id;
  return Create(std::move(config));
}

}  // namespace cace
