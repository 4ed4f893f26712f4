// A replay scenario: the accelerator, the fleet, the traffic and the budget, built from files or
// from the defaults the README explains.
#ifndef CACE_LIB_SIM_SCENARIO_H_
#define CACE_LIB_SIM_SCENARIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/workload/fleet.h"
#include "lib/report/replay_report.h"
#include "lib/sim/cost_model.h"
#include "lib/sim/simulator.h"

namespace cace {

// Memory kept back from the accelerator for the CUDA context, activations and allocator slack.
inline constexpr std::uint64_t kRuntimeReserveBytes = 2'000'000'000;

// How the default traffic's requests are given models (the README explains both):
//  - kServeGen, the default: shares, drift, clients and burstiness derived from the ServeGen
//    statistics (lib/workload/client_assignment.h);
//  - kCollapsed: the earlier rule (Zipf 1.1 reshuffled every 15 minutes, 16 sessions per class)
//    at its rate, x0.125, where every model is hot at once and every policy is overloaded.
enum class AssignmentRule { kServeGen, kCollapsed };
absl::StatusOr<AssignmentRule> AssignmentRuleByName(std::string_view name);

// The default rate of each rule when ScenarioOptions::rate_scale is 0. ServeGen's: the highest
// rate at which LRU is stable on seeds 1-5, found by `cace_replay --calibrate` (README).
// Found on seeds 1-5: x0.125 x 2^(-6/4) (search in the README).
inline constexpr double kServeGenDefaultRateScale = 0.04419417382415922;
inline constexpr double kCollapsedRateScale = 0.125;

struct ScenarioOptions {
  std::string data_dir;        // holds traces/ (the public traces and traces/servegen)
  std::string fleet_path;        // fleet CSV
  std::string trace_path;        // a trace in the documented format; empty: the Azure 2023 hour
  std::string accelerator = "l40s";
  double budget_bytes = 0;       // 0: the accelerator's memory less kRuntimeReserveBytes
  AssignmentRule assignment = AssignmentRule::kServeGen;
  // The public traces are a whole service's traffic; one accelerator serves a share of it.
  // 0: the assignment rule's default (above).
  double rate_scale = 0;
  std::uint64_t seed = 1;
  int sessions = 16;  // kCollapsed: open sessions per traffic class (0: from the traffic)
  CostModelOptions cost;
  PerKind<Seconds> slo_ttft = {0.5, 2.0, 5.0};
  // The host-memory cache of evicted weights (0: none) and prefetch (lib/engine/serving_core.h).
  double host_cache_bytes = 0;
  bool prefetch = false;
};

struct Scenario {
  ScenarioInfo info;
  std::vector<FleetModel> fleet;
  std::vector<SimRequest> requests;
  CostModel cost;
  SimulationOptions simulation;
};

absl::StatusOr<Scenario> BuildScenario(const ScenarioOptions& options);

// The rate scale `options` stands for (its rule's default when rate_scale is 0).
double EffectiveRateScale(const ScenarioOptions& options);

// The ServeGen assignment's parameters beside the facts they come from, and which fleet model
// holds each rank of each class for the seeds seed..seed+seeds-1.
absl::StatusOr<std::string> DescribeServeGenAssignment(const ScenarioOptions& options, int seeds);

// The scenario of each of `seeds` seeds of the model-assignment rule: options.seed,
// options.seed + 1, ..., in that order; all else as `options` says.
absl::StatusOr<std::vector<Scenario>> BuildSeedScenarios(ScenarioOptions options, int seeds);

// The smallest budget that still serves every request of `requests` (the largest model with the
// largest KV cache one of its requests needs).
std::uint64_t MinimumBudget(const std::vector<FleetModel>& fleet, const std::vector<SimRequest>& requests);

}  // namespace cace

#endif  // CACE_LIB_SIM_SCENARIO_H_
