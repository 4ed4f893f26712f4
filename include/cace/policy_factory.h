// The eviction policies cace ships, by name, behind the EvictionPolicy interface (their classes
// are internal: lib/policy/policies.h).
#ifndef CACE_POLICY_FACTORY_H_
#define CACE_POLICY_FACTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/context_scorer.h"
#include "cace/eviction_policy.h"

namespace cace {

struct PolicyFactoryOptions {
  // CACE's weights for "cace" and "cace-adaptive" (its starting point); unset: the defaults.
  std::optional<CaceWeights> cace_weights;
  // The memory the adaptive policy's shadow replays assume; required for "cace-adaptive".
  std::uint64_t memory_budget_bytes = 0;
};

// "lru", "lfu", "gdsf", "keep-alive" (Ollama's rule, 5 minutes), "cace", "cace-paper",
// "cace-adaptive". NotFound for another name (naming the known ones), InvalidArgument for weights
// given to a policy that has none or "cace-adaptive" without a budget.
absl::StatusOr<std::unique_ptr<EvictionPolicy>> MakeEvictionPolicy(std::string_view name,
                                                                   const PolicyFactoryOptions& options = {});
std::vector<std::string> EvictionPolicyNames();

}  // namespace cace

#endif  // CACE_POLICY_FACTORY_H_
