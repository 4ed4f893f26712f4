#include "lib/loader/tokenizer_data_checks.h"

#include "fmt/format.h"

namespace cace {

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SplitMerges(
    const std::vector<std::string>& merges, std::string_view file, std::string_view field) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const std::string& m = merges[i];
    const std::size_t space = m.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == m.size() || m.find(' ', space + 1) != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("{}: field '{}'[{}]: \"{}\" is not two tokens separated by one space", file, field, i, m));
    }
    out.emplace_back(m.substr(0, space), m.substr(space + 1));
  }
  return out;
}

absl::Status CheckTokenizerData(const TokenizerData& data, std::string_view file) {
  const std::size_t n = data.tokens.size();
  if (n == 0) return absl::InvalidArgumentError(fmt::format("{}: the tokenizer has no tokens", file));
  if (!data.scores.empty() && data.scores.size() != n) {
    return absl::InvalidArgumentError(
        fmt::format("{}: field 'scores' has {} entries for {} tokens", file, data.scores.size(), n));
  }
  if (!data.token_types.empty() && data.token_types.size() != n) {
    return absl::InvalidArgumentError(
        fmt::format("{}: field 'token_type' has {} entries for {} tokens", file, data.token_types.size(), n));
  }
  const std::pair<std::string_view, const std::optional<std::int32_t>*> ids[] = {
      {"bos_token_id", &data.bos_id},       {"eos_token_id", &data.eos_id},
      {"eot_token_id", &data.eot_id},       {"unknown_token_id", &data.unknown_id},
      {"padding_token_id", &data.padding_id}, {"fim_prefix_token_id", &data.fim_prefix_id},
      {"fim_suffix_token_id", &data.fim_suffix_id}, {"fim_middle_token_id", &data.fim_middle_id},
      {"fim_pad_token_id", &data.fim_pad_id},
  };
  for (const auto& [field, id] : ids) {
    if (id->has_value() && (**id < 0 || static_cast<std::size_t>(**id) >= n)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: field '{}': id {} is outside the {} tokens", file, field, **id, n));
    }
  }
  return absl::OkStatus();
}

}  // namespace cace
