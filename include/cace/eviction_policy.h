// EvictionPolicy: the pluggable choice of which resident models to evict.
//
// Policies decide, mechanisms act. A policy is shown only the models it may evict (resident, not
// pinned, no requests in flight), so "never a pinned or busy model" holds by construction; it
// names victims and nothing else. PlanEviction() below is the mechanism's side: it filters, checks
// feasibility before asking, and checks the answer after. A policy does no I/O, takes no lock and
// is deterministic for a given sequence of calls.
#ifndef CACE_EVICTION_POLICY_H_
#define CACE_EVICTION_POLICY_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/types.h"

namespace cace {

struct ModelSpec;

// One model the policy may evict, with the facts every policy may need.
struct Candidate {
  ModelHandle model = 0;
  std::uint64_t bytes = 0;    // what evicting it frees: weights and KV cache
  Seconds last_use = 0.0;     // last request start (or load end, if never used)
  Seconds load_seconds = 0.0; // measured (smoothed) time to load it again
  int in_flight = 0;          // requests it serves: non-zero only when busy models may drain
  Seconds drain_seconds = 0;  // estimated time until those requests finish (0 when idle)
};

struct EvictionRequest {
  std::span<const Candidate> candidates;
  std::uint64_t bytes_needed = 0;  // bytes the candidates' eviction must free (already feasible)
  Seconds now = 0.0;
  std::span<const ModelHandle> upcoming;  // models of queued requests, oldest first
};

// A request reached a model (on arrival, before any load it may need).
struct AccessEvent {
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  Seconds time = 0.0;
};

// A request finished; its output length teaches the expected-length estimate.
struct CompletionEvent {
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  Seconds time = 0.0;
  std::uint32_t output_tokens = 0;
};

// What a policy learned about one model's use, carried across a restart (the engine's state
// file). Times are relative: a restarted engine's clock starts again.
struct LearnedUsage {
  PerKind<std::uint32_t> window_counts{};   // requests per kind in its sliding window
  Seconds mean_gap_seconds = 0;             // smoothed gap between its requests (0: unknown)
  Seconds idle_seconds = -1;                // since its last request (-1: never used)
  PerKind<double> output_mean{};            // learned mean output tokens per kind
  PerKind<std::uint32_t> output_samples{};  // samples behind each mean (0: the prior holds)
  bool operator==(const LearnedUsage&) const = default;
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual std::string_view name() const = 0;

  virtual void OnRegister(ModelHandle /*model*/, const ModelSpec& /*spec*/) {}
  virtual void OnAccess(const AccessEvent& /*event*/) {}
  virtual void OnComplete(const CompletionEvent& /*event*/) {}
  virtual void OnLoad(ModelHandle /*model*/, Seconds /*now*/) {}
  virtual void OnEvict(ModelHandle /*model*/, Seconds /*now*/) {}

  // How long a model may stay idle before the engine unloads it unasked (Ollama's keep-alive).
  // Most policies keep models until memory is needed: infinity.
  virtual Seconds IdleTimeout(ModelHandle /*model*/) const {
    return std::numeric_limits<Seconds>::infinity();
  }

  // Appends victims to `victims` (cleared by the caller), most evictable first, until their bytes
  // cover request.bytes_needed. The candidates' total always covers it.
  virtual void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) = 0;

  // Prefetch: which of `absent` (models evicted after use, each fitting the free memory; never
  // empty) the policy expects to be needed next, or nothing to prefetch none. The default: the
  // most recently used (recency predicts reuse); a policy that knows better overrides it.
  virtual std::optional<ModelHandle> PickPrefetch(std::span<const Candidate> absent, Seconds now);

  // The usage state a restart should keep, and its restoration into a fresh policy (before its
  // first decision); the defaults learn and restore nothing.
  virtual LearnedUsage ExportUsage(ModelHandle /*model*/, Seconds /*now*/) const { return {}; }
  virtual void RestoreUsage(ModelHandle /*model*/, const LearnedUsage& /*usage*/, Seconds /*now*/) {}
};

// A resident model as the mechanism sees it, before filtering.
struct ResidentModel {
  Candidate candidate;
  bool pinned = false;
  int in_flight = 0;
};

// The mechanism around a policy: keeps the models that may be evicted (not pinned; not busy unless
// `include_busy`, for victims that will drain), fails with ResourceExhausted when they cannot free
// `bytes_needed`, asks the policy, and fails with Internal if its answer names a non-candidate,
// repeats a model or frees too little. `scratch` and `victims` are caller-owned buffers so that a
// decision allocates nothing in steady state.
absl::Status PlanEviction(EvictionPolicy& policy, std::span<const ResidentModel> residents,
                          std::uint64_t bytes_needed, Seconds now,
                          std::span<const ModelHandle> upcoming, bool include_busy,
                          std::vector<Candidate>& scratch, std::vector<ModelHandle>& victims);

}  // namespace cace

#endif  // CACE_EVICTION_POLICY_H_
