// Fill-in-the-middle tokens, which code completion prompts are built from. Each model family
// spells them its own way; they are found by name in the vocabulary.
#ifndef CACE_LIB_TOKENIZER_FIM_H_
#define CACE_LIB_TOKENIZER_FIM_H_

#include <string>
#include <vector>

#include "lib/tokenizer/vocab.h"

namespace cace {

// `given` with each id it lacks looked up among `tokens` by its known spellings (the first
// spelling found wins).
FimTokens FindFimTokens(const std::vector<std::string>& tokens, const FimTokens& given);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_FIM_H_
