// Recognises the pre-tokenizer a Hugging Face tokenizer.json describes ("pre_tokenizer"), as one
// of the kinds this library implements; anything else is an error, never a silent fallback,
// since a wrong split gives wrong ids without any other sign.
#ifndef CACE_LIB_TOKENIZER_PRE_TOKENIZER_JSON_H_
#define CACE_LIB_TOKENIZER_PRE_TOKENIZER_JSON_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "lib/tokenizer/pre_tokenizer.h"

namespace cace {

// `json` is the raw text of the "pre_tokenizer" object.
absl::StatusOr<PreTokenizerKind> PreTokenizerFromJson(std::string_view json);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_PRE_TOKENIZER_JSON_H_
