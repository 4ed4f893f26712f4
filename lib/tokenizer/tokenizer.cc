#include "lib/tokenizer/tokenizer.h"

#include <cstdint>
#include <cstdio>
#include <utility>

#include "fmt/format.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/nfc.h"
#include "lib/tokenizer/pre_tokenizer.h"
#include "lib/tokenizer/strings.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // ▁ U+2581

absl::Status CheckId(const VocabConfig& config, const std::optional<TokenId>& id,
                     std::string_view field) {
  if (id && (*id < 0 || static_cast<std::size_t>(*id) >= config.tokens.size())) {
    return absl::InvalidArgumentError(fmt::format("{}: id {} is outside the {}-token vocabulary",
                                                  field, *id, config.tokens.size()));
  }
  return absl::OkStatus();
}

absl::Status Validate(const VocabConfig& config) {
  if (config.tokens.empty()) {
    return absl::InvalidArgumentError("tokenizer.ggml.tokens: the vocabulary is empty");
  }
  if (config.tokens.size() > static_cast<std::size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("tokenizer.ggml.tokens: more tokens than int32 ids");
  }
  if (!config.kinds.empty() && config.kinds.size() != config.tokens.size()) {
    return absl::InvalidArgumentError(fmt::format("tokenizer.ggml.token_type: {} types for {} tokens",
                                                  config.kinds.size(), config.tokens.size()));
  }
  for (std::size_t i = 0; i < config.kinds.size(); ++i) {
    const auto k = static_cast<int>(config.kinds[i]);
    if (k < static_cast<int>(TokenKind::kNormal) || k > static_cast<int>(TokenKind::kByte)) {
      return absl::InvalidArgumentError(
          fmt::format("tokenizer.ggml.token_type[{}]: unknown type {}", i, k));
    }
  }
  for (auto [id, field] : {std::pair{&config.bos, "tokenizer.ggml.bos_token_id"},
                           std::pair{&config.eos, "tokenizer.ggml.eos_token_id"},
                           std::pair{&config.unknown, "tokenizer.ggml.unknown_token_id"},
                           std::pair{&config.padding, "tokenizer.ggml.padding_token_id"}}) {
    if (absl::Status s = CheckId(config, *id, field); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

Tokenizer::Tokenizer(VocabConfig config)
    : config_(std::move(config)), special_(config_), fim_(FindFimTokens(config_.tokens, config_.fim)) {}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(VocabConfig config) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(config)));
  const VocabConfig& c = t->config_;
  t->ids_.reserve(c.tokens.size());
  // On a duplicated text the first id wins, as in a Hugging Face vocabulary read in id order.
  for (std::size_t i = 0; i < c.tokens.size(); ++i) t->ids_.try_emplace(c.tokens[i], static_cast<TokenId>(i));
  if (c.model == TokenizerModel::kByteLevelBpe) {
    absl::StatusOr<std::unique_ptr<BpeModel>> bpe = BpeModel::Create(
        t->ids_, c.merges, c.unknown, c.pre_tokenizer == PreTokenizerKind::kLlama3);
    if (!bpe.ok()) return bpe.status();
    t->bpe_ = *std::move(bpe);
  } else {
    absl::StatusOr<std::unique_ptr<SpmModel>> spm = SpmModel::Create(c);
    if (!spm.ok()) return spm.status();
    t->spm_ = *std::move(spm);
  }
  t->decoded_.reserve(c.tokens.size());
  for (std::size_t i = 0; i < c.tokens.size(); ++i) {
    const std::string& text = c.tokens[i];
    switch (t->kind(static_cast<TokenId>(i))) {
      case TokenKind::kNormal:
        t->decoded_.push_back(c.model == TokenizerModel::kByteLevelBpe
                                  ? ByteLevelToBytes(text)
                                  : ReplaceAll(text, kSpmSpace, " "));
        break;
      case TokenKind::kByte: {
        // Validated by SpmModel::Create for SentencePiece; in a BPE vocabulary, text as is.
        unsigned byte = 0;
        if (c.model == TokenizerModel::kSentencePiece && text.size() == 6 &&
            std::sscanf(text.c_str(), "<0x%2X>", &byte) == 1) {
          t->decoded_.push_back(std::string(1, static_cast<char>(byte)));
        } else {
          t->decoded_.push_back(text);
        }
        break;
      }
      default:  // added tokens read as they are written
        t->decoded_.push_back(text);
    }
  }
  return t;
}

TokenKind Tokenizer::kind(TokenId id) const {
  if (!IsInRange(id) || config_.kinds.empty()) return TokenKind::kNormal;
  return config_.kinds[id];
}

std::optional<TokenId> Tokenizer::TokenToId(std::string_view text) const {
  const auto it = ids_.find(ToAbsl(text));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::string_view Tokenizer::TokenText(TokenId id) const {
  return IsInRange(id) ? std::string_view(config_.tokens[id]) : std::string_view();
}

std::vector<TokenId> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 2);
  if (options.add_special && config_.add_bos && config_.bos) out.push_back(*config_.bos);
  if (options.parse_special && !special_.empty()) {
    bool after_special = true;  // the start of the text counts as following a special token
    for (const SpecialTokenMatcher::Fragment& f : special_.Split(text)) {
      if (f.id >= 0) {
        out.push_back(f.id);
        after_special = true;
      } else {
        EncodeText(f.text, after_special, &out);
        after_special = false;
      }
    }
  } else {
    EncodeText(text, /*after_special=*/true, &out);
  }
  if (options.add_special && config_.add_eos && config_.eos) out.push_back(*config_.eos);
  return out;
}

void Tokenizer::EncodeText(std::string_view text, bool after_special,
                           std::vector<TokenId>* out) const {
  if (text.empty()) return;
  if (bpe_) {
    std::string normalized;
    if (config_.normalize_nfc) {
      normalized = ToNfc(text);
      text = normalized;
    }
    std::vector<std::string_view> pieces;
    PreTokenize(config_.pre_tokenizer, text, &pieces);
    for (std::string_view piece : pieces) bpe_->EncodePiece(piece, out);
    return;
  }
  // SentencePiece sees spaces as ▁, and a ▁ before text that starts the input or follows an added
  // token (llama.cpp and Hugging Face's legacy Llama tokenizer do the same).
  std::string normalized;
  if (config_.add_space_prefix && after_special) normalized = kSpmSpace;
  normalized += ReplaceAll(text, " ", kSpmSpace);
  spm_->Encode(normalized, out);
}

absl::Status Tokenizer::AppendTokenBytes(TokenId id, const DecodeOptions& options,
                                         bool* at_start, std::string* out) const {
  if (!IsInRange(id)) {
    return absl::InvalidArgumentError(
        fmt::format("token id {} is outside the {}-token vocabulary", id, vocab_size()));
  }
  const TokenKind k = kind(id);
  const bool special =
      k == TokenKind::kControl || k == TokenKind::kUnknown || k == TokenKind::kUnused;
  if (special && options.skip_special) return absl::OkStatus();
  std::string_view piece = decoded_[id];
  if (piece.empty()) return absl::OkStatus();
  if (*at_start && spm_ && config_.add_space_prefix && piece.front() == ' ') {
    piece.remove_prefix(1);
  }
  *at_start = false;
  out->append(piece);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Tokenizer::Decode(std::span<const TokenId> ids,
                                              const DecodeOptions& options) const {
  std::string bytes;
  bool at_start = true;
  for (TokenId id : ids) {
    if (absl::Status s = AppendTokenBytes(id, options, &at_start, &bytes); !s.ok()) return s;
  }
  return ToValidUtf8(bytes);
}

}  // namespace cace
