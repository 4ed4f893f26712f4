// The simulator's tiers and prefetch on small cases computed by hand.
#include <catch2/catch.hpp>

#include "lib/sim/policy_catalog.h"
#include "lib/sim/simulator.h"

namespace cace {
namespace {

// 1 TFLOP/s, 100 GB/s of memory, a 20 GB/s host link; weights from NVMe at 5 GB/s.
CostModel TierCostModel(bool pinned = true) {
  Accelerator accelerator{"test", 10'000'000'000, 1e11, 1e12, 2e10};
  return CostModel(accelerator, CostModelOptions{.prefill_efficiency = 1.0,
                                                 .load_start_seconds = 1.0,
                                                 .decode_bandwidth_efficiency = 1.0,
                                                 .host_cache_pinned = pinned});
}

FleetModel Model(std::string name, std::uint64_t bytes = 2'000'000'000) {
  return FleetModel{std::move(name), 1e9, bytes, 1000, WeightSource::kNvme, ModelRole::kBoth};
}

PolicyResult Run(const std::vector<FleetModel>& fleet, const std::vector<SimRequest>& requests,
                 std::uint64_t budget, std::uint64_t host_cache, bool prefetch = false,
                 bool pinned = true) {
  SimulationOptions options;
  options.memory_budget_bytes = budget;
  options.core.host_cache_bytes = host_cache;
  options.core.prefetch = prefetch;
  options.check_invariants = true;  // host cache within budget after every event, among the rest
  auto setup = PolicyByName("lru", CatalogOptions{budget});
  REQUIRE(setup.ok());
  auto result = Simulate(fleet, requests, TierCostModel(pinned), *setup, options);
  REQUIRE(result.ok());
  return *result;
}

TEST_CASE("the cost model charges a load from the host cache at the link's speed") {
  CHECK(TierCostModel().LoadSeconds(Model("a"), LoadTier::kDisk) == Approx(1.0 + 2e9 / 5e9));
  CHECK(TierCostModel().LoadSeconds(Model("a"), LoadTier::kHostCache) == Approx(1.0 + 2e9 / 2e10));
  // Pageable memory: half the link.
  CHECK(TierCostModel(false).LoadSeconds(Model("a"), LoadTier::kHostCache) == Approx(1.0 + 2e9 / 1e10));
}

// a, then b (evicts a), then a again: the third request's model reloads.
const std::vector<SimRequest> kAgain = {SimRequest{0.0, 0, TaskKind::kCompletion, 100, 1},
                                        SimRequest{10.0, 1, TaskKind::kCompletion, 100, 1},
                                        SimRequest{20.0, 0, TaskKind::kCompletion, 100, 1}};

TEST_CASE("a reload from the host cache costs the link's time, not the disk's") {
  const double prefill = 2 * 1e9 * 100 / 1e12;  // 0.2 s
  const PolicyResult disk = Run({Model("a"), Model("b")}, kAgain, 3'000'000'000, 0);
  CHECK(disk.ttft_samples[2] == Approx(1.4 + prefill));
  CHECK(disk.load_seconds == Approx(3 * 1.4));
  CHECK(disk.host_cache_loads == 0);

  const PolicyResult cached = Run({Model("a"), Model("b")}, kAgain, 3'000'000'000, 4'000'000'000);
  CHECK(cached.ttft_samples[2] == Approx(1.1 + prefill));
  CHECK(cached.load_seconds == Approx(1.4 + 1.4 + 1.1));
  CHECK(cached.loads == 3);
  CHECK(cached.host_cache_loads == 1);
  CHECK(cached.host_cache_bytes_loaded == 2'000'000'000);
  CHECK(cached.evictions == 2);

  const PolicyResult pageable = Run({Model("a"), Model("b")}, kAgain, 3'000'000'000, 4'000'000'000, false, false);
  CHECK(pageable.ttft_samples[2] == Approx(1.2 + prefill));

  // A cache smaller than the model holds nothing: every load reads the disk.
  const PolicyResult small = Run({Model("a"), Model("b")}, kAgain, 3'000'000'000, 1'000'000'000);
  CHECK(small.ttft_samples[2] == Approx(1.4 + prefill));
  CHECK(small.host_cache_loads == 0);
}

TEST_CASE("an evicted model is prefetched into free room: its next request pays no load") {
  // 1 GB models, 4 GB of memory; b's request reserves 2.5 GB of KV (1000 bytes a token), which
  // evicts a. When it ends, 3 GB are free and a comes back before its next request.
  const std::vector<SimRequest> requests = {
      SimRequest{0.0, 0, TaskKind::kCompletion, 100, 1},
      SimRequest{10.0, 1, TaskKind::kChat, 100, 1, 2'500'000},
      SimRequest{30.0, 0, TaskKind::kCompletion, 100, 1}};
  const std::vector<FleetModel> fleet = {Model("a", 1'000'000'000), Model("b", 1'000'000'000)};
  const double prefill = 0.2, load = 1.0 + 1e9 / 5e9;
  const PolicyResult plain = Run(fleet, requests, 4'000'000'000, 0);
  CHECK(plain.ttft_samples[2] == Approx(load + prefill));
  CHECK(plain.prefetches == 0);
  const PolicyResult prefetched = Run(fleet, requests, 4'000'000'000, 0, true);
  CHECK(prefetched.ttft_samples[2] == Approx(prefill));
  CHECK(prefetched.prefetches == 1);
  CHECK(prefetched.prefetches_used == 1);
  CHECK(prefetched.loads == 3);
  // With a host cache the prefetch copies from it.
  const PolicyResult both = Run(fleet, requests, 4'000'000'000, 2'000'000'000, true);
  CHECK(both.prefetches == 1);
  CHECK(both.host_cache_loads == 1);
  CHECK(both.load_seconds == Approx(2 * load + 1.0 + 1e9 / 2e10));
}

TEST_CASE("a prefetch gives way at once to a real load") {
  // As above, but b's request ends at about 11.4 s and c arrives during a's prefetch (1.2 s).
  const std::vector<SimRequest> requests = {
      SimRequest{0.0, 0, TaskKind::kCompletion, 100, 1},
      SimRequest{10.0, 1, TaskKind::kChat, 100, 1, 2'500'000},
      SimRequest{11.5, 2, TaskKind::kCompletion, 100, 1}};
  const std::vector<FleetModel> fleet = {Model("a", 1'000'000'000), Model("b", 1'000'000'000),
                                         Model("c", 1'000'000'000)};
  const PolicyResult plain = Run(fleet, requests, 4'000'000'000, 0);
  const PolicyResult prefetched = Run(fleet, requests, 4'000'000'000, 0, true);
  CHECK(prefetched.prefetches_cancelled >= 1);
  CHECK(prefetched.ttft_samples[2] == Approx(plain.ttft_samples[2]));  // not delayed
  CHECK(prefetched.ttft_samples[2] == Approx(1.2 + 0.2));
}

}  // namespace
}  // namespace cace
