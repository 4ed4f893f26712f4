// The serving policies a replay can compare, by name: each is an eviction policy paired with a
// load scheduler. The baselines are what people run today.
#ifndef CACE_LIB_SIM_POLICY_CATALOG_H_
#define CACE_LIB_SIM_POLICY_CATALOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sim/simulator.h"

namespace cace {

struct CatalogOptions {
  std::uint64_t memory_budget_bytes = 0;  // for the adaptive policy's shadow replays
};

// lru          LRU victims, FCFS loads, drain (llama.cpp's router, llama-swap)
// ollama       keep-alive victims (5 min), FCFS pending queue, drain, idle unload (Ollama)
// lfu, gdsf    those victims, FCFS loads
// cace         CACE scorer, context-aware loads
// cace-paper   the summaries' formula, context-aware loads
// cace-adaptive  CACE with online weight adaptation, context-aware loads
// oracle       future-knowing victims, context-aware loads (a bound, not a policy one can run)
std::vector<std::string> ComparisonPolicyNames();
// CACE with one factor removed each, and the two halves of CACE apart:
// cace-no-load, cace-no-latency, cace-no-output, cace-no-frequency, cace-no-demand,
// cace-per-byte (keep-values per byte freed, the earlier default), cace-fcfs (CACE victims, FCFS
// loads). lru-context (LRU victims, context-aware loads) is a comparison policy.
std::vector<std::string> AblationPolicyNames();

absl::StatusOr<PolicySetup> PolicyByName(std::string_view name, const CatalogOptions& options);

}  // namespace cace

#endif  // CACE_LIB_SIM_POLICY_CATALOG_H_
