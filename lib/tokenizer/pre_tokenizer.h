// Pre-tokenizers: split text into the pieces that BPE then encodes one at a time. Each kind
// reproduces, by hand-written matching over Unicode classes, the regular expressions (and their
// order of application) of the Hugging Face tokenizer of that model family.
#ifndef CACE_LIB_TOKENIZER_PRE_TOKENIZER_H_
#define CACE_LIB_TOKENIZER_PRE_TOKENIZER_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

enum class PreTokenizerKind {
  // GPT-2's ByteLevel regex:
  //   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // Llama 3's regex: case-insensitive contractions, [^\r\n\p{L}\p{N}]?\p{L}+, \p{N}{1,3},
  //  ?[^\s\p{L}\p{N}]+[\r\n]*, \s*[\r\n]+, \s+(?!\S), \s+
  kLlama3,
  // Qwen2 (Qwen2.5-Coder): as Llama 3 but numbers split into single digits (\p{N}).
  kQwen2,
  // DeepSeek-Coder: Split [\r\n], then \s?\p{L}+, then \s?\p{P}+, then [一-龥ࠀ-一가-퟿]+, then
  // Digits(individual); each applied to every piece the previous one left, keeping both the
  // matches and the text between them.
  kDeepSeekCoder,
  // DeepSeek LLM and DeepSeek-Coder-V2: Split [\r\n], then \s? and a run of its letters, then
  // \s? and a run of its punctuation (deepseek_llm_classes.h), then \s+$, then the CJK run
  // above, then \p{N}+.
  kDeepSeekLlm,
  // StarCoder / StarCoder2: Digits(individual), then the GPT-2 regex on each piece.
  kStarCoder,
};

// Kind named by the GGUF key tokenizer.ggml.pre (as llama.cpp's converter writes it).
absl::StatusOr<PreTokenizerKind> PreTokenizerFromName(std::string_view name);

std::string_view PreTokenizerName(PreTokenizerKind kind);

// Appends the pieces of `text` to `pieces`, in order; they are views into `text` and together
// cover it exactly. Any bytes are accepted: an ill-formed byte is a piece of "other" class.
void PreTokenize(PreTokenizerKind kind, std::string_view text,
                 std::vector<std::string_view>* pieces);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_PRE_TOKENIZER_H_
