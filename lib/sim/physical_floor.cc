#include "lib/sim/physical_floor.h"

#include "lib/report/figures.h"
#include "lib/sim/policy_catalog.h"

namespace cace {

absl::StatusOr<PolicyResult> ReplayPhysicalFloor(const Scenario& scenario) {
  SimulationOptions simulation = scenario.simulation;
  for (const FleetModel& m : scenario.fleet) simulation.memory_budget_bytes += m.weight_bytes;
  absl::StatusOr<PolicySetup> setup =
      PolicyByName("lru", CatalogOptions{simulation.memory_budget_bytes});
  if (!setup.ok()) return setup.status();
  setup->name = std::string(kFloorPolicyName);
  return Simulate(scenario.fleet, scenario.requests, scenario.cost, *setup, simulation);
}

}  // namespace cace
