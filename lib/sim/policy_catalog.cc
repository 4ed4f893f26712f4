#include "lib/sim/policy_catalog.h"

#include <limits>

#include "lib/policy/policies.h"
#include "fmt/format.h"

namespace cace {

std::vector<std::string> ComparisonPolicyNames() {
  return {"lru",  "ollama",     "lfu",           "gdsf",  "lru-context",
          "cace", "cace-paper", "cace-adaptive", "oracle"};
}

std::vector<std::string> AblationPolicyNames() {
  return {"cace-no-load", "cace-no-latency", "cace-no-output", "cace-no-frequency",
          "cace-no-demand", "cace-per-byte", "cace-fcfs"};
}

namespace {

using PolicyFactory = std::function<std::unique_ptr<EvictionPolicy>(const std::vector<ModelHandle>&)>;

PolicySetup Setup(std::string_view name, PolicyFactory make_policy, bool context_loads) {
  PolicySetup setup;
  setup.name = std::string(name);
  setup.make_policy = std::move(make_policy);
  if (context_loads) {
    setup.make_scheduler = [] { return std::make_unique<ContextLoadScheduler>(); };
  } else {
    setup.make_scheduler = [] { return std::make_unique<FcfsLoadScheduler>(); };
  }
  return setup;
}

template <typename Policy>
PolicyFactory Plain() {
  return [](const std::vector<ModelHandle>&) { return std::make_unique<Policy>(); };
}

PolicyFactory CaceWith(CaceWeights weights) {
  return [weights](const std::vector<ModelHandle>&) {
    return std::make_unique<CacePolicy>(std::make_unique<CaceScorer>(weights));
  };
}

}  // namespace

absl::StatusOr<PolicySetup> PolicyByName(std::string_view name, const CatalogOptions& options) {
  if (name == "lru") return Setup(name, Plain<LruPolicy>(), false);
  if (name == "ollama") return Setup(name, Plain<KeepAlivePolicy>(), false);
  if (name == "lfu") return Setup(name, Plain<LfuPolicy>(), false);
  if (name == "gdsf") return Setup(name, Plain<GdsfPolicy>(), false);
  if (name == "cace") return Setup(name, CaceWith({}), true);
  if (name == "cace-paper") {
    return Setup(name, [](const std::vector<ModelHandle>&) {
      return std::make_unique<CacePolicy>(std::make_unique<PaperScorer>());
    }, true);
  }
  if (name == "cace-adaptive") {
    const std::uint64_t budget = options.memory_budget_bytes;
    return Setup(name, [budget](const std::vector<ModelHandle>&) {
      return std::make_unique<AdaptiveCacePolicy>(AdaptiveCaceOptions{.capacity_bytes = budget});
    }, true);
  }
  if (name == "oracle") {
    return Setup(name, [](const std::vector<ModelHandle>& future) {
      return std::make_unique<OraclePolicy>(future);
    }, true);
  }
  if (name == "cace-fcfs") return Setup(name, CaceWith({}), false);
  if (name == "lru-context") return Setup(name, Plain<LruPolicy>(), true);
  CaceWeights w;
  if (name == "cace-no-load") {
    w.load_exponent = 0;
  } else if (name == "cace-no-latency") {
    w.latency_sensitivity = {1.0, 1.0, 1.0};
  } else if (name == "cace-no-output") {
    w.output_scale = std::numeric_limits<double>::infinity();
  } else if (name == "cace-no-frequency") {
    w.frequency_weight = 0;
  } else if (name == "cace-per-byte") {
    w.size_exponent = 1;
  } else if (name == "cace-no-demand") {
    w.demand_weight = 0;
    w.queue_weight = 0;
  } else {
    return absl::NotFoundError(fmt::format(
        "unknown policy '{}'; known: {}, {}", name, fmt::join(ComparisonPolicyNames(), ", "),
        fmt::join(AblationPolicyNames(), ", ")));
  }
  return Setup(name, CaceWith(w), true);
}

}  // namespace cace
