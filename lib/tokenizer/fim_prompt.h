// Fill-in-the-middle prompts for code completion, in prefix-suffix-middle order:
//   [BOS] <prefix token> prefix <suffix token> suffix <middle token>
// which is the order StarCoder, DeepSeek-Coder, Qwen2.5-Coder and CodeLlama were trained on; the
// model then generates the middle. The code around the cursor is untrusted text: added tokens
// written in it are encoded as plain text, so a file that contains "<fim_middle>" cannot end
// the prompt early.
#ifndef CACE_LIB_TOKENIZER_FIM_PROMPT_H_
#define CACE_LIB_TOKENIZER_FIM_PROMPT_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

// Fails (FailedPrecondition) when the vocabulary has no prefix, suffix or middle token. BOS goes
// first when `add_bos` and the vocabulary adds BOS. For SentencePiece, the lone ▁ that the
// suffix would start with is dropped, as llama.cpp's infill does for CodeLlama.
absl::StatusOr<std::vector<TokenId>> EncodeFimPrompt(const Tokenizer& tokenizer,
                                                     std::string_view prefix,
                                                     std::string_view suffix, bool add_bos);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_FIM_PROMPT_H_
