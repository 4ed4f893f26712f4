#include "cace/policy_factory.h"

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "lib/policy/policies.h"

namespace cace {

std::vector<std::string> EvictionPolicyNames() {
  return {"lru", "lfu", "gdsf", "keep-alive", "cace", "cace-paper", "cace-adaptive"};
}

absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeEvictionPolicy(std::string_view name,
                                                                   const PolicyFactoryOptions& options) {
  const bool weighted = name == "cace" || name == "cace-adaptive";
  if (options.cace_weights && !weighted) {
    return absl::InvalidArgumentError(fmt::format("policy '{}' takes no CACE weights", name));
  }
  const CaceWeights weights = options.cace_weights.value_or(CaceWeights{});
  if (name == "lru") return std::make_unique<LruPolicy>();
  if (name == "lfu") return std::make_unique<LfuPolicy>();
  if (name == "gdsf") return std::make_unique<GdsfPolicy>();
  if (name == "keep-alive") return std::make_unique<KeepAlivePolicy>();
  if (name == "cace") return std::make_unique<CacePolicy>(std::make_unique<CaceScorer>(weights));
  if (name == "cace-paper") return std::make_unique<CacePolicy>(std::make_unique<PaperScorer>());
  if (name == "cace-adaptive") {
    if (options.memory_budget_bytes == 0) {
      return absl::InvalidArgumentError("cace-adaptive needs the memory budget its shadow replays assume");
    }
    return std::make_unique<AdaptiveCacePolicy>(
        AdaptiveCaceOptions{.initial = weights, .capacity_bytes = options.memory_budget_bytes});
  }
  return absl::NotFoundError(
      fmt::format("unknown policy '{}'; known: {}", name, fmt::join(EvictionPolicyNames(), ", ")));
}

}  // namespace cace
