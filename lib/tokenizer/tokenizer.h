// A tokenizer of one model: text to token ids and back, for byte-level BPE vocabularies (GPT-2,
// StarCoder, DeepSeek-Coder, Qwen2, Llama 3) and SentencePiece ones (Llama 2, CodeLlama). The ids
// are those of the model's Hugging Face tokenizer. Immutable after creation; Encode and Decode may
// be called from several threads at once.
#ifndef CACE_LIB_TOKENIZER_TOKENIZER_H_
#define CACE_LIB_TOKENIZER_TOKENIZER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/tokenizer/bpe.h"
#include "lib/tokenizer/fim.h"
#include "lib/tokenizer/special_tokens.h"
#include "lib/tokenizer/spm.h"
#include "lib/tokenizer/vocab.h"

namespace cace {

struct TokenizerData;  // lib/loader/tokenizer_data.h

struct EncodeOptions {
  // Put BOS / EOS around the ids where the vocabulary asks for them (add_bos, add_eos).
  bool add_special = false;
  // Added tokens written in the text ("<fim_prefix>", "<|endoftext|>") become their ids; when
  // false they are encoded as the plain text they are, which is what untrusted text needs.
  bool parse_special = true;
};

struct DecodeOptions {
  // Control tokens (BOS, EOS, FIM markers, ...) give no text.
  bool skip_special = true;
};

class Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(VocabConfig config);

  // Not copied or moved: the BPE model keeps a pointer to this object's token map.
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // From the tokenizer the loader read out of a GGUF file or a tokenizer.json.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromTokenizerData(const TokenizerData& data);

  std::vector<TokenId> Encode(std::string_view text, const EncodeOptions& options = {}) const;

  // Text of the ids, valid UTF-8 (an ill-formed byte sequence becomes U+FFFD). Fails, naming the
  // id, on an id outside the vocabulary.
  absl::StatusOr<std::string> Decode(std::span<const TokenId> ids,
                                     const DecodeOptions& options = {}) const;

  // Appends the raw bytes token `id` stands for (not necessarily whole UTF-8 characters).
  // `at_start` is true until some text has been produced; SentencePiece drops the space that its
  // prefix ▁ stands for from the first piece of text.
  absl::Status AppendTokenBytes(TokenId id, const DecodeOptions& options, bool* at_start,
                                std::string* out) const;

  std::optional<TokenId> TokenToId(std::string_view text) const;
  // Token text as stored in the vocabulary (byte-level or ▁ form); empty for an unknown id.
  std::string_view TokenText(TokenId id) const;
  std::size_t vocab_size() const { return config_.tokens.size(); }
  TokenKind kind(TokenId id) const;

  const FimTokens& fim() const { return fim_; }
  std::optional<TokenId> bos() const { return config_.bos; }
  std::optional<TokenId> eos() const { return config_.eos; }
  // Whether Encode with add_special puts BOS first (the vocabulary's add_bos).
  bool adds_bos() const { return config_.add_bos; }
  TokenizerModel model() const { return config_.model; }
  PreTokenizerKind pre_tokenizer() const { return config_.pre_tokenizer; }

 private:
  explicit Tokenizer(VocabConfig config);
  void EncodeText(std::string_view text, bool after_special, std::vector<TokenId>* out) const;
  bool IsInRange(TokenId id) const {
    return id >= 0 && static_cast<std::size_t>(id) < config_.tokens.size();
  }

  VocabConfig config_;
  absl::flat_hash_map<std::string, TokenId> ids_;
  std::vector<std::string> decoded_;  // what each token decodes to, computed once
  SpecialTokenMatcher special_;
  FimTokens fim_;
  std::unique_ptr<BpeModel> bpe_;  // set for kByteLevelBpe
  std::unique_ptr<SpmModel> spm_;  // set for kSentencePiece
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_TOKENIZER_H_
