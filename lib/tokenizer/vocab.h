// What a tokenizer is built from, independent of the file it came from (GGUF metadata or a
// Hugging Face tokenizer.json): the tokens with their kinds and scores, the merges, the model
// family and the pre-tokenizer, and the special ids.
#ifndef CACE_LIB_TOKENIZER_VOCAB_H_
#define CACE_LIB_TOKENIZER_VOCAB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/tokenizer/pre_tokenizer.h"

namespace cace {

using TokenId = std::int32_t;

// Values of the GGUF key tokenizer.ggml.token_type.
enum class TokenKind : std::uint8_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // <s>, <|endoftext|>: never produced from text by the model itself
  kUserDefined = 4,  // added tokens, matched in the text as written before pre-tokenization
  kUnused = 5,
  kByte = 6,  // SentencePiece byte fallback: <0x00>..<0xFF>
};

enum class TokenizerModel {
  kByteLevelBpe,   // GPT-2 style: merge ranks over the byte-level alphabet (GGUF "gpt2")
  kSentencePiece,  // Llama style: score-ordered merges over characters, ▁ for space (GGUF "llama")
};

struct FimTokens {
  std::optional<TokenId> prefix;     // <|fim_prefix|>, <fim_prefix>, <｜fim▁begin｜>, ▁<PRE>
  std::optional<TokenId> suffix;     // <|fim_suffix|>, <fim_suffix>, <｜fim▁hole｜>, ▁<SUF>
  std::optional<TokenId> middle;     // <|fim_middle|>, <fim_middle>, <｜fim▁end｜>, ▁<MID>
  std::optional<TokenId> pad;        // <|fim_pad|>, <fim_pad>
  std::optional<TokenId> repo_name;  // <|repo_name|>, <repo_name>
  std::optional<TokenId> file_sep;   // <|file_sep|>, <file_sep>
  std::optional<TokenId> end_of_turn;  // ▁<EOT> (CodeLlama), <|EOT|> (DeepSeek-Coder), ...

  // Prefix, suffix and middle together: enough to build a fill-in-the-middle prompt.
  bool complete() const { return prefix && suffix && middle; }
};

struct VocabConfig {
  TokenizerModel model = TokenizerModel::kByteLevelBpe;
  // Byte-level BPE only. kLlama3 also takes a pre-token that is a token whole, before merging
  // (Hugging Face's ignore_merges, which Llama 3's tokenizer.json sets).
  PreTokenizerKind pre_tokenizer = PreTokenizerKind::kGpt2;
  std::vector<std::string> tokens;   // token text, indexed by id
  std::vector<TokenKind> kinds;      // empty: every token is kNormal
  std::vector<float> scores;         // SentencePiece: merge priority; empty for BPE
  // BPE merges, highest priority first. SentencePiece with no scores (a tokenizer.json) ranks its
  // merges by these instead.
  std::vector<std::pair<std::string, std::string>> merges;
  std::optional<TokenId> bos;
  std::optional<TokenId> eos;
  std::optional<TokenId> unknown;
  std::optional<TokenId> padding;
  // Fill-in-the-middle ids the file names; those it leaves out are looked up by spelling.
  FimTokens fim;
  bool add_bos = false;
  bool add_eos = false;
  // Text is put in Unicode NFC before it is split (Qwen2's tokenizer.json normalizer).
  bool normalize_nfc = false;
  // SentencePiece: a ▁ goes before the text, as sentencepiece's add_dummy_prefix does.
  bool add_space_prefix = true;
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_VOCAB_H_
