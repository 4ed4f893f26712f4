// The conformance suite every policy runs through: randomized sequences where the capacity is never
// exceeded and pinned models stay, and, on instances small enough to brute-force, the optimum.
#include <map>
#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "lib/policy/policies.h"
#include "tests/policy/serving_loop.h"

namespace cace {
namespace {

using testing::LoopModel;
using testing::LoopRequest;
using testing::RunLoop;

constexpr std::uint64_t kGiB = 1ull << 30;

std::vector<LoopRequest> RandomRequests(std::mt19937& rng, int models, int length) {
  // Skewed popularity, so that a good policy has something to learn.
  std::vector<double> weights;
  for (int m = 0; m < models; ++m) weights.push_back(1.0 / (m + 1));
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  std::uniform_int_distribution<int> kind(0, kTaskKindCount - 1);
  std::vector<LoopRequest> requests;
  for (int i = 0; i < length; ++i) {
    requests.push_back({static_cast<ModelHandle>(pick(rng)), static_cast<TaskKind>(kind(rng)),
                        static_cast<std::uint32_t>(10 + rng() % 1000)});
  }
  return requests;
}

std::vector<ModelHandle> ModelsOf(const std::vector<LoopRequest>& requests) {
  std::vector<ModelHandle> models;
  for (const LoopRequest& r : requests) models.push_back(r.model);
  return models;
}

struct Lru { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<LruPolicy>(); } };
struct Lfu { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<LfuPolicy>(); } };
struct Gdsf { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<GdsfPolicy>(); } };
struct KeepAlive { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<KeepAlivePolicy>(5.0); } };
struct Cace { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<CacePolicy>(); } };
struct CacePaper { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>&) { return std::make_unique<CacePolicy>(std::make_unique<PaperScorer>()); } };
struct Oracle { static std::unique_ptr<EvictionPolicy> Make(const std::vector<LoopRequest>& r) { return std::make_unique<OraclePolicy>(ModelsOf(r)); } };

TEMPLATE_TEST_CASE("on random sequences the capacity is never exceeded", "[conformance]", Lru, Lfu,
                   Gdsf, KeepAlive, Cace, CacePaper, Oracle) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<LoopModel> models;
    std::uniform_int_distribution<std::uint64_t> size(1, 8);
    for (int m = 0; m < 8; ++m) {
      std::uint64_t bytes = size(rng) * kGiB;
      models.push_back({"m" + std::to_string(m), bytes, 0.5 + static_cast<double>(bytes / kGiB)});
    }
    const std::uint64_t capacity = 12 * kGiB;
    auto requests = RandomRequests(rng, 8, 200);
    auto policy = TestType::Make(requests);
    testing::LoopResult result = RunLoop(capacity, models, requests, *policy);  // throws on a breach
    CHECK(result.peak_used <= capacity);
    CHECK(result.misses >= 1);
    CHECK(result.evictions <= result.misses);
  }
}

TEMPLATE_TEST_CASE("a pinned model is never evicted", "[conformance]", Lru, Lfu, Gdsf, KeepAlive,
                   Cace, CacePaper, Oracle) {
  std::mt19937 rng(99);
  std::vector<LoopModel> models;
  for (int m = 0; m < 5; ++m) models.push_back({"m" + std::to_string(m), kGiB, 1.0});
  auto requests = RandomRequests(rng, 5, 300);
  auto policy = TestType::Make(requests);
  std::unique_ptr<ResidencyTable> owned = testing::MakeRegistry(3 * kGiB, models, *policy);
  ResidencyTable& registry = *owned;
  // Model 4 is the least popular in the request mix, the natural victim of most policies.
  REQUIRE(registry.BeginLoad(4).ok());
  REQUIRE(registry.FinishLoad(4, 1.0, 0.0).ok());
  REQUIRE(registry.SetPinned(4, true).ok());
  Seconds now = 0;
  for (const LoopRequest& r : requests) {
    now += 1;
    policy->OnAccess({r.model, r.kind, now});
    if (registry.Get(r.model)->state != ModelState::kResident) {
      auto room = registry.ReserveRoom(*policy, kGiB, now);
      REQUIRE(room.ok());
      for (ModelHandle v : room->victims) {
        REQUIRE(v != 4);
        policy->OnEvict(v, now);
        REQUIRE(registry.FinishEviction(v).ok());
      }
      REQUIRE(registry.BeginLoad(r.model).ok());
      REQUIRE(registry.FinishLoad(r.model, 1.0, now).ok());
    }
    REQUIRE(registry.Get(4)->state == ModelState::kResident);
  }
}

// Fewest misses over all eviction choices, for unit-size models: exhaustive search with memo.
int OptimalMisses(const std::vector<ModelHandle>& seq, std::size_t pos, std::set<ModelHandle> cache,
                  std::size_t capacity, std::map<std::pair<std::size_t, std::set<ModelHandle>>, int>& memo) {
  if (pos == seq.size()) return 0;
  auto key = std::make_pair(pos, cache);
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  int best;
  if (cache.contains(seq[pos])) {
    best = OptimalMisses(seq, pos + 1, cache, capacity, memo);
  } else if (cache.size() < capacity) {
    auto next = cache;
    next.insert(seq[pos]);
    best = 1 + OptimalMisses(seq, pos + 1, next, capacity, memo);
  } else {
    best = std::numeric_limits<int>::max();
    for (ModelHandle victim : cache) {
      auto next = cache;
      next.erase(victim);
      next.insert(seq[pos]);
      best = std::min(best, 1 + OptimalMisses(seq, pos + 1, next, capacity, memo));
    }
  }
  memo[key] = best;
  return best;
}

TEST_CASE("on brute-forceable instances the oracle is optimal and never beaten", "[conformance]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int model_count = 4 + trial % 3;
    const std::size_t capacity_models = 2 + trial % 2;
    std::vector<LoopModel> models;
    for (int m = 0; m < model_count; ++m) models.push_back({"m" + std::to_string(m), kGiB, 1.0});
    auto requests = RandomRequests(rng, model_count, 14);
    std::map<std::pair<std::size_t, std::set<ModelHandle>>, int> memo;
    const int optimum = OptimalMisses(ModelsOf(requests), 0, {}, capacity_models, memo);
    const std::uint64_t capacity = capacity_models * kGiB;

    OraclePolicy oracle(ModelsOf(requests));
    const int oracle_misses = RunLoop(capacity, models, requests, oracle).misses;
    CHECK(oracle_misses == optimum);

    std::vector<std::unique_ptr<EvictionPolicy>> online;
    online.push_back(Lru::Make(requests));
    online.push_back(Lfu::Make(requests));
    online.push_back(Gdsf::Make(requests));
    online.push_back(KeepAlive::Make(requests));
    online.push_back(Cace::Make(requests));
    online.push_back(CacePaper::Make(requests));
    for (auto& policy : online) {
      INFO(policy->name());
      CHECK(RunLoop(capacity, models, requests, *policy).misses >= oracle_misses);
    }
  }
}

}  // namespace
}  // namespace cace
