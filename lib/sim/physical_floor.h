// The physical floor of a scenario: its trace replayed with memory for every model, so each
// model loads once and nothing is evicted. What remains is loading each model the first time,
// queueing and compute: the least any eviction policy could cost. The table measures each
// policy's share of the swap penalty left against it.
#ifndef CACE_LIB_SIM_PHYSICAL_FLOOR_H_
#define CACE_LIB_SIM_PHYSICAL_FLOOR_H_

#include "absl/status/statusor.h"
#include "lib/report/replay_report.h"
#include "lib/sim/scenario.h"

namespace cace {

// LRU with a budget of every model's weights plus the scenario's budget (so KV room is never
// less than in the scenario), named "floor".
absl::StatusOr<PolicyResult> ReplayPhysicalFloor(const Scenario& scenario);

}  // namespace cace

#endif  // CACE_LIB_SIM_PHYSICAL_FLOOR_H_
