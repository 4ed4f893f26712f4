// A model's tokenizer from its file: a GGUF (tokenizer.ggml.* metadata) or a Hugging Face
// tokenizer.json (with tokenizer_config.json beside it, when there is one).
#ifndef CACE_LIB_TOKENIZER_TOKENIZER_FILE_H_
#define CACE_LIB_TOKENIZER_TOKENIZER_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

// A path ending in ".gguf" is read as GGUF, anything else as tokenizer.json.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_TOKENIZER_FILE_H_
