// The calibration's search and its stability measure on small cases checked by hand, and the
// default scenario's replay being deterministic.
#include <catch2/catch.hpp>
#include <cmath>

#include "lib/sim/calibration.h"
#include "lib/sim/physical_floor.h"
#include "lib/sim/policy_catalog.h"

namespace cace {
namespace {

// A probe that calls every rate at or below `threshold` stable, recording the rates tried.
ProbeFunction ThresholdProbe(double threshold, std::vector<double>& tried) {
  return [threshold, &tried](double rate) -> absl::StatusOr<CalibrationProbe> {
    tried.push_back(rate);
    return CalibrationProbe{.rate_scale = rate, .stable = rate <= threshold};
  };
}

TEST_CASE("the search steps up a quarter octave at a time while stable, and keeps the last stable") {
  std::vector<double> tried;
  auto search = SearchHighestStableRate(ThresholdProbe(0.3, tried), CalibrationGrid{});
  REQUIRE(search.ok());
  // 0.125 x 2^(k/4): 0.125, 0.1487, 0.1768, 0.2102, 0.25, 0.2973 stable; 0.3536 not.
  REQUIRE(tried.size() == 7);
  CHECK(tried[4] == Approx(0.25));
  CHECK(tried[6] == Approx(0.125 * std::exp2(1.5)));
  CHECK(search->chosen == Approx(0.125 * std::exp2(1.25)));
  CHECK(search->probes.size() == 7);
}

TEST_CASE("the search steps down while unstable and stops at the first stable rate") {
  std::vector<double> tried;
  auto search = SearchHighestStableRate(ThresholdProbe(0.05, tried), CalibrationGrid{});
  REQUIRE(search.ok());
  // 0.125, 0.1051, 0.0884, 0.0743, 0.0625, 0.0526 unstable; 0.0442 stable.
  REQUIRE(tried.size() == 7);
  CHECK(search->chosen == Approx(0.125 * std::exp2(-1.5)));
  CHECK(search->chosen <= 0.05);
}

TEST_CASE("the search stops at the grid's ends") {
  std::vector<double> tried;
  CalibrationGrid grid{.start = 1, .steps_per_octave = 1, .lowest = 0.25, .highest = 4};
  auto up = SearchHighestStableRate(ThresholdProbe(100, tried), grid);
  REQUIRE(up.ok());
  CHECK(up->chosen == 4);  // 1, 2, 4 stable; 8 is beyond the grid
  CHECK(tried == std::vector<double>{1, 2, 4});
  tried.clear();
  auto none = SearchHighestStableRate(ThresholdProbe(0.1, tried), grid);
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK(tried == std::vector<double>{1, 0.5, 0.25});
  auto bad = SearchHighestStableRate(ThresholdProbe(1, tried), CalibrationGrid{.start = -1});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("stability: load path busy share and last-quarter TTFT, by hand") {
  // Arrivals 0..100 s; the last quarter starts at 75 s: requests at 80 and 100 s.
  std::vector<SimRequest> requests = {{0.0}, {40.0}, {80.0}, {100.0}};
  PolicyResult result;
  result.simulated_seconds = 200;
  result.load_seconds = 100;
  result.drain_wait_seconds = 30;
  result.ttft_samples = {1.0, 1.0, 2.0, 4.0};
  const StabilityMeasure m = MeasureStability(requests, result, StabilityCriteria{});
  CHECK(m.load_path_busy == Approx(0.65));
  // Mean over all 2.0, over the last quarter 3.0: 1.5, at the limit (stable).
  CHECK(m.tail_ttft_ratio == Approx(1.5));
  CHECK(m.stable);
  result.drain_wait_seconds = 50;  // 75 % busy
  CHECK_FALSE(MeasureStability(requests, result, StabilityCriteria{}).stable);
  result.drain_wait_seconds = 30;
  result.ttft_samples = {1.0, 1.0, 2.0, 6.0};  // tail 4.0 over 2.5: 1.6
  CHECK_FALSE(MeasureStability(requests, result, StabilityCriteria{}).stable);
  result.ttft_samples = {1.0, 1.0, NAN, 6.0};  // a rejected request counts nowhere: 6 / (8 / 3)
  CHECK(MeasureStability(requests, result, StabilityCriteria{}).tail_ttft_ratio == Approx(2.25));
}

TEST_CASE("the default scenario replays to the same figures with the same seed") {
  ScenarioOptions options;
  options.data_dir = CACE_DATA_DIR;
  options.fleet_path = CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv";
  auto first = BuildScenario(options);
  auto second = BuildScenario(options);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  for (const char* name : {"lru", "cace"}) {
    auto setup = PolicyByName(name, CatalogOptions{first->simulation.memory_budget_bytes});
    REQUIRE(setup.ok());
    auto a = Simulate(first->fleet, first->requests, first->cost, *setup, first->simulation);
    auto b = Simulate(second->fleet, second->requests, second->cost, *setup, second->simulation);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->ttft.mean == b->ttft.mean);
    CHECK(a->e2e.p95 == b->e2e.p95);
    CHECK(a->evictions == b->evictions);
    CHECK(a->ttft_samples == b->ttft_samples);
    CHECK(a->evictions > 0);
  }
  auto floor = ReplayPhysicalFloor(*first);
  REQUIRE(floor.ok());
  CHECK(floor->policy == "floor");
  CHECK(floor->evictions == 0);
  CHECK(floor->loads == first->fleet.size());  // each model loads once
}

}  // namespace
}  // namespace cace
