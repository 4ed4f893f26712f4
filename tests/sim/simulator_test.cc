// The simulator's arithmetic on small cases computed by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "lib/sim/policy_catalog.h"
#include "lib/sim/simulator.h"

namespace cace {
namespace {

// Round figures: 1 TFLOP/s, 100 GB/s, weights from NVMe at 5 GB/s.
CostModel RoundCostModel() {
  Accelerator accelerator{"test", 10'000'000'000, 1e11, 1e12, 1e10};
  return CostModel(accelerator, CostModelOptions{.prefill_efficiency = 1.0,
                                                 .load_start_seconds = 1.0,
                                                 .decode_bandwidth_efficiency = 1.0});
}

FleetModel Model(std::string name) {
  return FleetModel{std::move(name), 1e9, 2'000'000'000, 1000, WeightSource::kNvme, ModelRole::kBoth};
}

PolicyResult Run(const std::vector<FleetModel>& fleet, const std::vector<SimRequest>& requests,
                 std::uint64_t budget, const std::string& policy = "lru") {
  SimulationOptions options;
  options.memory_budget_bytes = budget;
  options.check_invariants = true;  // the core's bookkeeping holds after every event
  auto setup = PolicyByName(policy, CatalogOptions{budget});
  REQUIRE(setup.ok());
  auto result = Simulate(fleet, requests, RoundCostModel(), *setup, options);
  REQUIRE(result.ok());
  return *result;
}

TEST_CASE("the cost model charges loads, prefills and decode steps as documented") {
  const CostModel cost = RoundCostModel();
  CHECK(cost.LoadSeconds(Model("a")) == Approx(1.0 + 2e9 / 5e9));
  CHECK(cost.PrefillSeconds(Model("a"), 100) == Approx(2 * 1e9 * 100 / 1e12));
  CHECK(cost.DecodeStepSeconds(Model("a"), 101) == Approx((2e9 + 101 * 1000.0) / 1e11));
}

TEST_CASE("one load, one request: TTFT is load + prefill, E2E adds the decode steps") {
  const PolicyResult r = Run({Model("a")}, {SimRequest{0.0, 0, TaskKind::kCompletion, 100, 3}},
                             5'000'000'000);
  const double ttft = 1.4 + 0.2;
  CHECK(r.ttft.mean == Approx(ttft));
  CHECK(r.e2e.mean == Approx(ttft + (2e9 + 101e3) / 1e11 + (2e9 + 102e3) / 1e11));
  CHECK(r.loads == 1);
  CHECK(r.evictions == 0);
  CHECK(r.bytes_loaded == 2'000'000'000);
  CHECK(r.load_seconds == Approx(1.4));
  CHECK(r.slo_attainment[KindIndex(TaskKind::kCompletion)] == 0.0);  // 1.6 s > 0.5 s
}

TEST_CASE("requests to the same model share one prefill and one batch") {
  const PolicyResult r = Run({Model("a")},
                             {SimRequest{0.0, 0, TaskKind::kChat, 100, 2},
                              SimRequest{0.5, 0, TaskKind::kChat, 100, 2}},
                             5'000'000'000);
  // Both wait for the load (1.4 s) and are prefilled together (200 tokens: 0.4 s).
  CHECK(r.ttft_samples[0] == Approx(1.8));
  CHECK(r.ttft_samples[1] == Approx(1.3));
  // Both joined the batch when the load finished: 1.4 s and 0.9 s after arriving.
  CHECK(r.admission_wait.mean == Approx((1.4 + 0.9) / 2));
  CHECK(r.admission_wait.count == 2);
  // One decode step for both: weights plus 2 x 101 tokens of KV.
  CHECK(r.e2e.mean == Approx((1.8 + 1.3) / 2 + (2e9 + 202e3) / 1e11));
  CHECK(r.loads == 1);
}

TEST_CASE("a miss on a full accelerator evicts, then loads") {
  const PolicyResult r = Run({Model("a"), Model("b")},
                             {SimRequest{0.0, 0, TaskKind::kCompletion, 100, 1},
                              SimRequest{10.0, 1, TaskKind::kCompletion, 100, 1}},
                             3'000'000'000);
  CHECK(r.evictions == 1);
  CHECK(r.loads == 2);
  CHECK(r.eviction_times == std::vector<double>{10.0});
  CHECK(r.drains == 0);  // the victim was idle: the load did not wait
  CHECK(r.drain_wait_seconds == 0.0);
  CHECK(r.ttft_samples[1] == Approx(1.6));
  // Memory: 2 GB (+ 100 KB of KV while serving) held from 0 to the end, over a 3 GB budget.
  CHECK(r.memory_utilization == Approx(2.0 / 3.0).epsilon(1e-3));
}

TEST_CASE("a request larger than the memory is rejected and counted, judged by its max_tokens; the replay goes on") {
  SimulationOptions options;
  options.memory_budget_bytes = 2'000'150'000;
  auto setup = PolicyByName("lru", CatalogOptions{options.memory_budget_bytes});
  REQUIRE(setup.ok());
  const std::vector<FleetModel> fleet = {Model("a")};
  const CostModel cost = RoundCostModel();
  // 100 prompt tokens and max_tokens 1 fit (101 KB of KV); with max_tokens 100 the reservation,
  // 200 KB, does not: the core reserves what a server knows on arrival, not the true output.
  auto result = Simulate(fleet,
                         std::vector<SimRequest>{{0.0, 0, TaskKind::kChat, 100, 1},
                                                 {0.5, 0, TaskKind::kChat, 100, 1, 100},
                                                 {1.0, 0, TaskKind::kChat, 100, 1}},
                         cost, *setup, options);
  REQUIRE(result.ok());
  CHECK(result->rejected == 1);
  CHECK(result->rejection_reason.find("request 2:") != std::string::npos);
  CHECK(result->rejection_reason.find("larger than the memory budget") != std::string::npos);
  // The other two are served and measured; the rejected one is in no latency figure.
  CHECK(result->ttft.count == 2);
  CHECK(result->e2e.count == 2);
  CHECK(std::isnan(result->ttft_samples[1]));
  CHECK(result->ttft_by_kind[KindIndex(TaskKind::kChat)].count == 2);
  CHECK(result->loads == 1);
}

TEST_CASE("every catalogued policy replays the same small trace to completion, deterministically") {
  std::vector<FleetModel> fleet = {Model("a"), Model("b"), Model("c")};
  std::vector<SimRequest> requests;
  for (int i = 0; i < 60; ++i) {
    requests.push_back(SimRequest{i * 0.7, static_cast<ModelHandle>((i * 7) % 3),
                                  static_cast<TaskKind>(i % 3), 50u + static_cast<std::uint32_t>(i),
                                  1u + static_cast<std::uint32_t>(i % 5)});
  }
  std::vector<std::string> names = ComparisonPolicyNames();
  for (const std::string& n : AblationPolicyNames()) names.push_back(n);
  for (const std::string& name : names) {
    INFO(name);
    const PolicyResult first = Run(fleet, requests, 4'500'000'000, name);
    const PolicyResult second = Run(fleet, requests, 4'500'000'000, name);
    CHECK(first.requests == 60);
    CHECK(first.ttft_samples == second.ttft_samples);
    CHECK(first.evictions == second.evictions);
  }
}

TEST_CASE("a trace resolves to the fleet's handles with the client's max_tokens kept for the reservation") {
  const std::vector<FleetModel> fleet = {Model("a"), Model("b")};
  std::vector<TraceRequest> trace = {
      TraceRequest{.arrival = 0.0, .model = "b", .prompt_tokens = 10, .output_tokens = 5, .max_tokens = 64},
      TraceRequest{.arrival = 1.0, .model = "a", .prompt_tokens = 10, .output_tokens = 0}};
  auto resolved = ResolveTrace(trace, fleet, TaskClassifier());
  REQUIRE(resolved.ok());
  CHECK((*resolved)[0].model == 1);
  CHECK((*resolved)[0].output_tokens == 5);
  CHECK((*resolved)[0].OutputLimit() == 64);   // the reservation is for what the client allows
  CHECK((*resolved)[1].output_tokens == 1);    // every request yields at least its first token
  CHECK((*resolved)[1].OutputLimit() == 1);    // no limit in the trace: the output is the limit
  trace.push_back(TraceRequest{.arrival = 2.0, .model = "zz"});
  auto unknown = ResolveTrace(trace, fleet, TaskClassifier());
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(unknown.status().message()).find("request 3") != std::string::npos);
}

TEST_CASE("an unknown policy name is an error listing the known ones") {
  auto setup = PolicyByName("mru", CatalogOptions{});
  CHECK(setup.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(setup.status().message()).find("lru") != std::string::npos);
}

}  // namespace
}  // namespace cace
