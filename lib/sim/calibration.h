// The default scenario's operating point: the highest arrival-rate scale at which LRU, what
// users run today, is stable on every seed. Stable: its load path (loading, or waiting for
// victims to drain) busy at most 70 % of the replay, and its mean TTFT over the last quarter of
// the replay at most 1.5 x its mean over the whole (a queue that does not grow without bound).
#ifndef CACE_LIB_SIM_CALIBRATION_H_
#define CACE_LIB_SIM_CALIBRATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/report/replay_report.h"
#include "lib/sim/scenario.h"

namespace cace {

struct StabilityCriteria {
  double max_load_path_busy = 0.70;
  double max_tail_ttft_ratio = 1.5;
};

struct StabilityMeasure {
  std::uint64_t seed = 0;
  double load_path_busy = 0;   // (load seconds + drain-wait seconds) / replayed seconds
  double tail_ttft_ratio = 0;  // mean TTFT of requests arriving in the last quarter / overall
  bool stable = false;
};

// Measures one replay of `requests` (the scenario's, in arrival order, matching
// result.ttft_samples); rejected requests (NaN TTFT) are left out.
StabilityMeasure MeasureStability(std::span<const SimRequest> requests, const PolicyResult& result,
                                  const StabilityCriteria& criteria);

struct CalibrationProbe {
  double rate_scale = 0;
  std::vector<StabilityMeasure> seeds;
  bool stable = false;  // on every seed
};

// The rates tried: start x 2^(k / steps_per_octave) for integer k, within [lowest, highest].
struct CalibrationGrid {
  double start = 0.125;
  int steps_per_octave = 4;
  double lowest = 1.0 / 1024;
  double highest = 8;
};

struct CalibrationSearch {
  std::vector<CalibrationProbe> probes;  // in the order tried
  double chosen = 0;                     // the highest stable rate found
};

// Tries the grid's start; while stable, steps up one grid point, else down, until the answer
// flips (stability is taken to fall with the rate); the chosen rate is the highest stable point
// tried. NotFound when even `lowest` is unstable; an error of `probe` is returned as is.
using ProbeFunction = std::function<absl::StatusOr<CalibrationProbe>(double rate_scale)>;
absl::StatusOr<CalibrationSearch> SearchHighestStableRate(const ProbeFunction& probe,
                                                          const CalibrationGrid& grid);

// The search with `policy` replayed on `seeds` seeds of `base` (base.seed, base.seed + 1, ...) at
// each rate tried.
absl::StatusOr<CalibrationSearch> CalibrateRate(const ScenarioOptions& base, int seeds,
                                                const std::string& policy,
                                                const StabilityCriteria& criteria,
                                                const CalibrationGrid& grid);

// Every probe with its per-seed figures, and the rate chosen.
std::string FormatCalibration(const CalibrationSearch& search, const StabilityCriteria& criteria,
                              const std::string& policy);

}  // namespace cace

#endif  // CACE_LIB_SIM_CALIBRATION_H_
