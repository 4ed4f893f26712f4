#include "lib/runtime/backend.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace cace {

absl::Status ValidateSteps(const LlamaShape& shape, const void* owner, std::span<const SequenceStep> steps) {
  if (steps.empty()) return absl::InvalidArgumentError("forward: no sequences given");
  absl::flat_hash_set<const KvCache*> seen;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& step = steps[i];
    if (step.cache == nullptr) return absl::InvalidArgumentError(absl::StrCat("forward: step ", i, " has no cache"));
    if (step.cache->owner_tag() != owner) {
      return absl::InvalidArgumentError(absl::StrCat("forward: step ", i, "'s cache was made by another backend"));
    }
    if (!seen.insert(step.cache).second) {
      return absl::InvalidArgumentError(absl::StrCat("forward: step ", i, " repeats a sequence of an earlier step"));
    }
    if (step.tokens.empty()) return absl::InvalidArgumentError(absl::StrCat("forward: step ", i, " has no tokens"));
    const std::int64_t end = step.cache->length() + static_cast<std::int64_t>(step.tokens.size());
    if (end > step.cache->capacity()) {
      return absl::OutOfRangeError(absl::StrCat("forward: step ", i, " needs ", end, " positions, its cache holds ",
                                                step.cache->capacity()));
    }
    if (end > shape.max_positions) {
      return absl::OutOfRangeError(absl::StrCat("forward: step ", i, " reaches position ", end,
                                                ", beyond max_position_embeddings = ", shape.max_positions));
    }
    for (std::int32_t token : step.tokens) {
      if (token < 0 || token >= shape.vocab_size) {
        return absl::InvalidArgumentError(
            absl::StrCat("forward: token id ", token, " in step ", i, " is outside the vocabulary of ", shape.vocab_size));
      }
    }
  }
  return absl::OkStatus();
}

std::int64_t TotalTokens(std::span<const SequenceStep> steps) {
  std::int64_t n = 0;
  for (const SequenceStep& s : steps) n += static_cast<std::int64_t>(s.tokens.size());
  return n;
}

}  // namespace cace
