// The replay for real: a scaled-down piece of the default traffic served on the wall clock by the
// Engine (CPU backend) from real model files, with a pool that holds only some of them, each cold
// load from disk (the files' pages kept out of the page cache); then the same requests through
// the simulator with the cost model measured on this machine, so that the prediction stands
// beside the measurement.
#ifndef CACE_EXAMPLES_REPLAY_REAL_REPLAY_H_
#define CACE_EXAMPLES_REPLAY_REAL_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/report/replay_report.h"
#include "examples/replay/machine_calibration.h"
#include "lib/sim/scenario.h"

namespace cace {

struct RealTraceOptions {
  ScenarioOptions scenario;     // the default traffic (its fleet's models are mapped onto the files)
  double start_seconds = 0;     // where in the default traffic the piece begins
  std::size_t requests = 300;   // how many requests it takes
  double time_compression = 1;  // arrivals come this many times faster than in the default traffic
  double length_scale = 0.25;   // prompt and output lengths are multiplied by this...
  std::uint32_t max_prompt_tokens = 96;  // ...and capped here
  std::uint32_t max_output_tokens = 48;
};

// One request of the real trace: `model` indexes the files; max_tokens is its output (the
// engine stops there, and the simulator reserves the same KV).
struct RealRequest {
  double arrival = 0;
  std::size_t model = 0;
  TaskKind kind = TaskKind::kCompletion;
  std::uint32_t prompt_tokens = 0;
  std::uint32_t max_tokens = 0;
};

// The default traffic's fleet models, smallest first, are spread over `model_count` files by
// size rank (the small completion models fall on the small files, the large chat models on the
// large ones).
absl::StatusOr<std::vector<RealRequest>> MakeRealTrace(const RealTraceOptions& options, std::size_t model_count);

struct RealRunOptions {
  std::vector<ModelFile> models;
  std::vector<MeasuredModelCosts> costs;  // one per model, by name
  std::uint64_t memory_budget_bytes = 0;
  // Host memory for evicted weights (EngineOptions::host_cache_bytes; the simulator's
  // CoreOptions::host_cache_bytes, a cached reload charged the calibrated host-cache reload).
  std::uint64_t host_cache_bytes = 0;
  int compute_threads = 0;
  int max_batch = 32;
  bool cold_loads = true;  // keep the model files out of the page cache
  // The simulator's step as the Engine's (SimulationOptions::decode_with_prefill).
  bool decode_with_prefill = true;
  PerKind<Seconds> slo_ttft = {0.5, 2.0, 5.0};
};

struct RealPolicyRun {
  PolicyResult measured;
  PolicyResult predicted;  // the simulator, with each request's measured output length
};

// Serves `trace` with `policy` on the wall clock, then simulates it.
absl::StatusOr<RealPolicyRun> RunRealPolicy(const std::string& policy, const std::vector<RealRequest>& trace,
                                            const RealRunOptions& options);

// The measured mean TTFT and E2E beside the prediction, per policy, and whether each is within
// `tolerance` (0.25: 25 %) of the measured.
std::string FormatPredictionTable(const std::vector<RealPolicyRun>& runs, double tolerance);

}  // namespace cace

#endif  // CACE_EXAMPLES_REPLAY_REAL_REPLAY_H_
