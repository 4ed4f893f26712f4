// The adaptive CACE policy run in deferred mode (its shadow replays taken out and run elsewhere,
// as the engine does on its policy worker) chooses what the inline mode chooses, and its
// OnAccess never replays.
#include <vector>

#include <catch2/catch.hpp>

#include "cace/model_registry.h"
#include "lib/policy/policies.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

bool SameWeights(const CaceWeights& a, const CaceWeights& b) {
  return a.load_exponent == b.load_exponent && a.size_exponent == b.size_exponent &&
         a.frequency_weight == b.frequency_weight && a.demand_weight == b.demand_weight &&
         a.output_scale == b.output_scale && a.latency_sensitivity == b.latency_sensitivity;
}

TEST_CASE("Deferred shadow replays choose the inline mode's weights", "[policy]") {
  const AdaptiveCaceOptions options{.capacity_bytes = 5 * kGiB, .period = 10, .history = 60};
  AdaptiveCacePolicy inline_policy(options);
  AdaptiveCaceOptions deferred_options = options;
  deferred_options.deferred = true;
  AdaptiveCacePolicy deferred(deferred_options);
  // Four models, two of which fit: small fast completion models and large slow chat models.
  for (ModelHandle m = 0; m < 4; ++m) {
    const ModelSpec spec{.name = "m" + std::to_string(m), .weight_bytes = (m < 2 ? 2 : 3) * kGiB,
                         .load_seconds = m < 2 ? 1.0 : 6.0};
    inline_policy.OnRegister(m, spec);
    deferred.OnRegister(m, spec);
  }
  int rounds = 0;
  for (int i = 0; i < 600; ++i) {
    const Seconds t = i * 0.5;
    const ModelHandle m = static_cast<ModelHandle>((i * 7 + i / 13) % 4);
    const TaskKind kind = m < 2 ? TaskKind::kCompletion : TaskKind::kChat;
    inline_policy.OnAccess({m, kind, t});
    const CaceWeights before = deferred.weights();
    deferred.OnAccess({m, kind, t});
    CHECK(SameWeights(deferred.weights(), before));  // OnAccess itself replays nothing
    if (auto round = deferred.TakeAdaptation()) {
      ++rounds;
      CHECK_FALSE(deferred.TakeAdaptation());  // taken once
      deferred.ApplyAdaptation(round->Run());
    }
    REQUIRE(SameWeights(deferred.weights(), inline_policy.weights()));
    inline_policy.OnComplete({m, kind, t + 0.2, kind == TaskKind::kCompletion ? 12u : 400u});
    deferred.OnComplete({m, kind, t + 0.2, kind == TaskKind::kCompletion ? 12u : 400u});
  }
  CHECK(rounds == 29);  // every 10 s of 300
  CHECK(inline_policy.adaptations() > 0);  // the weights did move, so the comparison means something
  CHECK(deferred.adaptations() == inline_policy.adaptations());
}

}  // namespace
}  // namespace cace

#include "cace/policy_factory.h"

namespace cace {
namespace {

TEST_CASE("Policies by name", "[policy]") {
  for (const std::string& name : EvictionPolicyNames()) {
    auto policy = MakeEvictionPolicy(name, {.memory_budget_bytes = kGiB});
    REQUIRE(policy.ok());
    CHECK_FALSE((*policy)->name().empty());
  }
  CHECK(MakeEvictionPolicy("nope").status().code() == absl::StatusCode::kNotFound);
  CHECK(MakeEvictionPolicy("lru", {.cace_weights = CaceWeights{}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(MakeEvictionPolicy("cace-adaptive").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(MakeEvictionPolicy("cace", {.cace_weights = CaceWeights{.load_exponent = 2}}).ok());
}

}  // namespace
}  // namespace cace
