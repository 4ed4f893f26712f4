// A replay scenario: the accelerator, the fleet, the traffic and the budget, built from files or
// from the defaults the README explains.
#ifndef CACE_LIB_SIM_SCENARIO_H_
#define CACE_LIB_SIM_SCENARIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/fleet.h"
#include "cace/replay_report.h"
#include "lib/sim/cost_model.h"
#include "lib/sim/simulator.h"

namespace cace {

// Memory kept back from the accelerator for the CUDA context, activations and allocator slack.
inline constexpr std::uint64_t kRuntimeReserveBytes = 2'000'000'000;

struct ScenarioOptions {
  std::string data_dir;        // holds traces/ (the public traces)
  std::string fleet_path;        // fleet CSV
  std::string trace_path;        // a trace in the documented format; empty: the Azure 2023 hour
  std::string accelerator = "l40s";
  double budget_bytes = 0;       // 0: the accelerator's memory less kRuntimeReserveBytes
  // The public traces are a whole service's traffic; one accelerator serves a share of it. 1/8 is
  // the largest power-of-two share that one L40S with memory for every model (no swapping at all)
  // serves with a mean TTFT under 0.3 s: compute is then not the bottleneck, memory is.
  double rate_scale = 0.125;
  std::uint64_t seed = 1;
  int sessions = 16;  // open sessions per traffic class (AssignmentOptions; 0: from the traffic)
  CostModelOptions cost;
  PerKind<Seconds> slo_ttft = {0.5, 2.0, 5.0};
};

struct Scenario {
  ScenarioInfo info;
  std::vector<FleetModel> fleet;
  std::vector<SimRequest> requests;
  CostModel cost;
  SimulationOptions simulation;
};

absl::StatusOr<Scenario> BuildScenario(const ScenarioOptions& options);

// The scenario of each of `seeds` seeds of the model-assignment rule: options.seed,
// options.seed + 1, ..., in that order; all else as `options` says.
absl::StatusOr<std::vector<Scenario>> BuildSeedScenarios(ScenarioOptions options, int seeds);

// The smallest budget that still serves every request of `requests` (the largest model with the
// largest KV cache one of its requests needs).
std::uint64_t MinimumBudget(const std::vector<FleetModel>& fleet, const std::vector<SimRequest>& requests);

}  // namespace cace

#endif  // CACE_LIB_SIM_SCENARIO_H_
