// Which waiting model the load path serves next. Part of a serving policy beside the choice of
// victims: today's servers load in first-come-first-served order; a context-aware scheduler
// weighs what is waiting against what the load costs.
#ifndef CACE_LIB_ENGINE_LOAD_SCHEDULER_H_
#define CACE_LIB_ENGINE_LOAD_SCHEDULER_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "cace/types.h"

namespace cace {

// A model that is not resident and has requests waiting for it.
struct WaitingModel {
  ModelHandle model = 0;
  Seconds oldest_arrival = 0;
  PerKind<std::uint32_t> waiting{};  // requests waiting, per kind
  Seconds load_seconds = 0;          // expected load time
  // Loads of other models started since this model's queue last began waiting: how often it has
  // been passed over.
  std::uint64_t loads_passed = 0;
};

class LoadScheduler {
 public:
  virtual ~LoadScheduler() = default;
  virtual std::string_view name() const = 0;
  // Index into `waiting` (never empty) of the model to load next.
  virtual std::size_t PickNext(std::span<const WaitingModel> waiting, Seconds now) const = 0;
};

// The model of the oldest waiting request (llama.cpp's router, llama-swap, Ollama's FIFO queue).
class FcfsLoadScheduler final : public LoadScheduler {
 public:
  std::string_view name() const override { return "fcfs"; }
  std::size_t PickNext(std::span<const WaitingModel> waiting, Seconds now) const override;
};

struct ContextSchedulerOptions {
  // How much each kind's waiting requests count (the same reading of latency sensitivity as the
  // CACE scorer's defaults).
  PerKind<double> latency_sensitivity = {1.0, 0.5, 0.25};
  // Bound on waiting: a model passed over by this many loads is loaded first (oldest first among
  // such), so no request waits forever behind busier models. The bound counts loads, not seconds:
  // a wait measured in seconds is overrun by every request once the load path is the bottleneck,
  // which would turn the scheduler into first-come-first-served exactly when the order of loads
  // matters most. Counted in loads, a request waits at most this many loads (each a load and
  // possibly a drain) plus its own.
  std::uint64_t max_loads_passed = 8;
};

// Loads the model with the most latency-weighted waiting work per second of load time: several
// requests grouped on one model, or one completion on a small model, go before a lone reasoning
// request on a large one; bounded by max_loads_passed.
class ContextLoadScheduler final : public LoadScheduler {
 public:
  explicit ContextLoadScheduler(ContextSchedulerOptions options = {}) : options_(options) {}
  std::string_view name() const override { return "context"; }
  std::size_t PickNext(std::span<const WaitingModel> waiting, Seconds now) const override;

 private:
  ContextSchedulerOptions options_;
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_LOAD_SCHEDULER_H_
