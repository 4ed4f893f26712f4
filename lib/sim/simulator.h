// The discrete-event simulator: the ServingCore on a virtual clock, with a simulated accelerator
// that charges the CostModel's times. Replays hours of traffic in seconds.
#ifndef CACE_LIB_SIM_SIMULATOR_H_
#define CACE_LIB_SIM_SIMULATOR_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/eviction_policy.h"
#include "lib/workload/fleet.h"
#include "lib/report/replay_report.h"
#include "cace/task_context.h"
#include "lib/workload/trace.h"
#include "lib/engine/load_scheduler.h"
#include "lib/engine/serving_core.h"
#include "lib/sim/cost_model.h"

namespace cace {

// A trace request resolved against a fleet: a model handle (the fleet's index) and a kind.
struct SimRequest {
  Seconds arrival = 0;
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  std::uint32_t prompt_tokens = 0;
  std::uint32_t output_tokens = 1;  // what the model generated: when the request finishes
  // The client's limit, what the core reserves KV room for. 0 (a trace without it) is read as a
  // limit equal to the output: the request ran to its end.
  std::uint32_t max_tokens = 0;
  std::uint32_t OutputLimit() const { return max_tokens > 0 ? max_tokens : output_tokens; }
};

// Resolves model names (NotFound names the line) and classifies each request as a server would
// from what it sees on arrival (the trace's kind when given, else FIM markers and max_tokens).
// An output longer than max_tokens is kept as the trace says (the simulator finishes a request
// at its true output), though a real server would stop at max_tokens.
absl::StatusOr<std::vector<SimRequest>> ResolveTrace(std::span<const TraceRequest> trace,
                                                     std::span<const FleetModel> fleet,
                                                     const TaskClassifier& classifier);

// A serving policy: how victims are chosen and how loads are ordered.
struct PolicySetup {
  std::string name;
  // Given the whole future sequence of requested models (only the oracle may look).
  std::function<std::unique_ptr<EvictionPolicy>(const std::vector<ModelHandle>& future)> make_policy;
  std::function<std::unique_ptr<LoadScheduler>()> make_scheduler;
};

struct SimulationOptions {
  std::uint64_t memory_budget_bytes = 0;
  CoreOptions core;
  PerKind<Seconds> slo_ttft = {0.5, 2.0, 5.0};
  // How a step with requests to prefill runs. false: the prefill alone, the decoding requests wait
  // for the next step (an accelerator server's separate prefill iteration). true: as the Engine's
  // StepBatch does, one forward pass prefills the new requests and decodes one token of each
  // running one (charged as the prefill plus the decode step).
  bool decode_with_prefill = false;
  // Check the core's invariants after every event (tests; it costs a pass over the models).
  bool check_invariants = false;
  // Called now and then with the fraction of requests replayed.
  std::function<void(double)> progress;
};

absl::StatusOr<PolicyResult> Simulate(std::span<const FleetModel> fleet,
                                      std::span<const SimRequest> requests,
                                      const CostModel& cost, const PolicySetup& setup,
                                      const SimulationOptions& options);

}  // namespace cace

#endif  // CACE_LIB_SIM_SIMULATOR_H_
