// What a tokenizer needs from a model's files, read from GGUF metadata (tokenizer.ggml.*) or from
// a Hugging Face tokenizer.json. The loader only reads and checks the data; encoding lives in
// lib/tokenizer.
#ifndef CACE_LIB_LOADER_TOKENIZER_DATA_H_
#define CACE_LIB_LOADER_TOKENIZER_DATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

class GgufFile;

// Token types of tokenizer.ggml.token_type (llama.cpp's numbering).
enum class TokenType : std::int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool special = false;
};

struct TokenizerData {
  // GGUF's tokenizer.ggml.model: "gpt2" (byte-level BPE), "llama" (SentencePiece BPE with
  // scores), ... From tokenizer.json: "gpt2" for a BPE model without byte_fallback, "llama" for
  // one with byte_fallback.
  std::string model;
  // GGUF's tokenizer.ggml.pre ("deepseek-coder", "starcoder", "default", ...); empty when absent
  // (always from tokenizer.json, whose pre-tokenizer is described by `pre_tokenizer_json`).
  std::string pre;
  // The raw JSON text of tokenizer.json's "pre_tokenizer" (empty for GGUF or when absent).
  std::string pre_tokenizer_json;
  std::vector<std::string> tokens;  // index = token id
  std::vector<float> scores;        // empty when the file has none
  std::vector<TokenType> token_types;  // empty when the file has none
  // BPE merges in rank order, as (left, right) pairs. GGUF and tokenizer.json's "a b" form are
  // split at the single space; tokenizer.json's [a, b] form is taken as is.
  std::vector<std::pair<std::string, std::string>> merges;
  // tokenizer.json's added_tokens (also placed in `tokens` at their ids). Empty for GGUF, where
  // special tokens are the ones whose token type is kControl or kUserDefined.
  std::vector<AddedToken> added_tokens;

  std::optional<std::int32_t> bos_id;
  std::optional<std::int32_t> eos_id;
  std::optional<std::int32_t> eot_id;
  // The token a BPE emits for a piece that has none (tokenizer.json's model.unk_token; from GGUF
  // only for SentencePiece vocabularies, see tokenizer_gguf.cc).
  std::optional<std::int32_t> unknown_id;
  std::optional<std::int32_t> padding_id;
  std::optional<bool> add_bos;  // tokenizer.ggml.add_bos_token when present
  std::optional<bool> add_eos;
  // Fill-in-the-middle markers (tokenizer.ggml.fim_{pre,suf,mid,pad}_token_id, or the older
  // prefix/suffix/middle_token_id keys); from tokenizer.json, looked up by the usual spellings
  // (<|fim_prefix|>, <fim_prefix>, <｜fim▁begin｜>, ...) among the added tokens.
  std::optional<std::int32_t> fim_prefix_id;
  std::optional<std::int32_t> fim_suffix_id;
  std::optional<std::int32_t> fim_middle_id;
  std::optional<std::int32_t> fim_pad_id;
};

// Every id is checked to be within `tokens`, lengths of scores / token types to match tokens.
absl::StatusOr<TokenizerData> TokenizerDataFromGguf(const GgufFile& file);
absl::StatusOr<TokenizerData> ParseTokenizerJson(std::string_view json_text, std::string_view name);
absl::StatusOr<TokenizerData> ReadTokenizerJsonFile(const std::string& path);

}  // namespace cace

#endif  // CACE_LIB_LOADER_TOKENIZER_DATA_H_
