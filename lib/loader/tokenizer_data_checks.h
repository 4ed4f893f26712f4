// Checks shared by the GGUF and tokenizer.json readers of TokenizerData.
#ifndef CACE_LIB_LOADER_TOKENIZER_DATA_CHECKS_H_
#define CACE_LIB_LOADER_TOKENIZER_DATA_CHECKS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/loader/tokenizer_data.h"

namespace cace {

// Splits "left right" merges at their single space; an entry without exactly one space is an
// error naming `field` and its index.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SplitMerges(
    const std::vector<std::string>& merges, std::string_view file, std::string_view field);

// Every special id lies within tokens; scores and token types are empty or as long as tokens.
absl::Status CheckTokenizerData(const TokenizerData& data, std::string_view file);

}  // namespace cace

#endif  // CACE_LIB_LOADER_TOKENIZER_DATA_CHECKS_H_
