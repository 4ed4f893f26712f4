// The measured cost model: its file (read back, bad lines refused with file and line), its
// arithmetic, and the simulator's Engine-shaped step (prefill and decode in one pass) on a case
// computed by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "lib/sim/calibrated_cost_model.h"
#include "lib/sim/policy_catalog.h"
#include "lib/sim/simulator.h"

namespace cace {
namespace {

MeasuredModelCosts Costs() {
  return MeasuredModelCosts{.model = "m", .weight_bytes = 100, .cold_load_seconds = 1.0,
                            .busy_cold_load_seconds = 0.5, .warm_load_seconds = 0.25, .host_cache_load_seconds = 0.125,
                            .prefill_base = 0, .prefill_per_token = 0.1, .decode_base = 0.5,
                            .decode_per_sequence = 0.01, .decode_per_kv_token = 0.001};
}

FleetModel Model() { return FleetModel{"m", 50, 100, 1, WeightSource::kNvme, ModelRole::kBoth}; }

std::string Write(const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / "cace_costs_test.csv").string();
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("the cost-model file reads back what was written, and refuses bad lines") {
  const std::vector<MeasuredModelCosts> written = {Costs()};
  auto read = ReadMeasuredCosts(Write(FormatMeasuredCosts(written, "machine")));
  REQUIRE(read.ok());
  REQUIRE(read->size() == 1);
  CHECK((*read)[0].model == "m");
  CHECK((*read)[0].weight_bytes == 100);
  CHECK((*read)[0].warm_load_seconds == Approx(0.25));
  CHECK((*read)[0].host_cache_load_seconds == Approx(0.125));
  CHECK((*read)[0].decode_per_kv_token == Approx(0.001));

  const std::string header =
      "model,weight_bytes,cold_load_s,busy_cold_load_s,warm_load_s,host_cache_load_s,prefill_base_s,prefill_per_token_s,"
      "decode_base_s,decode_per_sequence_s,decode_per_kv_token_s\n";
  auto negative = ReadMeasuredCosts(Write(header + "m,100,1,0.5,0.2,0.1,0,0.1,-0.5,0,0\n"));
  REQUIRE(!negative.ok());
  CHECK_THAT(std::string(negative.status().message()), Catch::Contains(":2:"));
  CHECK_THAT(std::string(negative.status().message()), Catch::Contains("decode_base_s"));
  CHECK(!ReadMeasuredCosts(Write(header + "m,100,1,0.5,0.2,0.1,0,0.1,0.5,0,0\nm,100,1,0.5,0.2,0.1,0,0.1,0.5,0,0\n")).ok());
  CHECK(!ReadMeasuredCosts(Write("model,weight_bytes\nm,1\n")).ok());
}

TEST_CASE("the calibrated model charges what was measured, and knows every model of the fleet") {
  const std::vector<MeasuredModelCosts> costs = {Costs()};
  const std::vector<FleetModel> fleet = {Model()};
  auto cost = CalibratedCostModel::ForFleet(costs, fleet);
  REQUIRE(cost.ok());
  CHECK(cost->LoadSeconds(Model()) == Approx(1.0));
  CHECK(cost->LoadSeconds(Model(), LoadTier::kHostCache) == Approx(0.125));
  CHECK(cost->PrefillSeconds(Model(), 10) == Approx(1.0));
  CHECK(cost->DecodeStepSeconds(Model(), 4, 100) == Approx(0.5 + 0.04 + 0.1));
  FleetModel other = Model();
  other.name = "unmeasured";
  const std::vector<FleetModel> unknown = {other};
  CHECK(absl::IsNotFound(CalibratedCostModel::ForFleet(costs, unknown).status()));
}

// r0 at 0 s (10 prompt tokens, 3 out), r1 at 1.2 s (10 prompt, 1 out); load 1 s, prefill 0.1 s a
// token, decode 0.5 s a step (the other terms 0). Separate prefill: r0's prefill 1-2 s, r1's 2-3 s
// (r0 waits), r0's decodes 3-3.5-4. Engine-shaped: r1's prefill and r0's decode together 2-3.5 s,
// r0's last decode 3.5-4.
TEST_CASE("the simulator can run a prefill and the running decodes in one step, as the Engine does") {
  MeasuredModelCosts c = Costs();
  c.decode_per_sequence = c.decode_per_kv_token = 0;
  const std::vector<MeasuredModelCosts> costs = {c};
  const std::vector<FleetModel> fleet = {Model()};
  auto cost = CalibratedCostModel::ForFleet(costs, fleet);
  REQUIRE(cost.ok());
  const std::vector<SimRequest> requests = {{0.0, 0, TaskKind::kChat, 10, 3, 3}, {1.2, 0, TaskKind::kChat, 10, 1, 1}};
  auto run = [&](bool together) {
    SimulationOptions options;
    options.memory_budget_bytes = 1000;
    options.decode_with_prefill = together;
    options.check_invariants = true;
    auto setup = PolicyByName("lru", CatalogOptions{1000});
    REQUIRE(setup.ok());
    auto result = Simulate(fleet, requests, *cost, *setup, options);
    REQUIRE(result.ok());
    return *result;
  };
  const PolicyResult apart = run(false);
  CHECK(apart.ttft_samples[0] == Approx(2.0));
  CHECK(apart.ttft_samples[1] == Approx(1.8));
  CHECK(apart.e2e.mean == Approx((4.0 + 1.8) / 2));
  const PolicyResult together = run(true);
  CHECK(together.ttft_samples[0] == Approx(2.0));
  CHECK(together.ttft_samples[1] == Approx(2.3));
  CHECK(together.e2e.mean == Approx((4.0 + 2.3) / 2));
}

}  // namespace
}  // namespace cace
