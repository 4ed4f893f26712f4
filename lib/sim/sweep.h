// The memory x arrival-rate sweep: where CACE wins and where it does not.
#ifndef CACE_LIB_SIM_SWEEP_H_
#define CACE_LIB_SIM_SWEEP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sim/scenario.h"

namespace cace {

// Replays `base` at x0.5, x1, x2 and x4 its arrival rate and with budgets that hold about 2, 3, 4,
// 5 and 6 of the fleet's models at once (k x the mean model size, raised where needed to the
// smallest budget that serves every request of every seed). Only the budget changes, not the
// accelerator's speed. Returns a table: one line per cell and policy, ratios to `baseline`, a list
// of the cells where "cace" loses to any other online policy on mean TTFT, and per policy the
// geometric mean of its TTFT ratio over every cell and the cells where that ratio is below 1.
//
// Each cell is replayed with `seeds` seeds (base.seed, base.seed + 1, ...) at one budget; its row
// shows the means over the seeds of the figures and the geometric means of the per-seed ratios
// (with one seed, the figures and ratios of that seed). NotFound when `baseline` is not among
// `policies`.
absl::StatusOr<std::string> RunMemoryRateSweep(const ScenarioOptions& base,
                                               const std::vector<std::string>& policies,
                                               const std::string& baseline, int seeds);

}  // namespace cace

#endif  // CACE_LIB_SIM_SWEEP_H_
