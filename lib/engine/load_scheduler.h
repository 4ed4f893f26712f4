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
  // Bound on waiting: a model whose oldest request has waited this long is loaded first
  // (oldest first among such), so no request waits forever behind busier models.
  Seconds max_wait = 20.0;
};

// Loads the model with the most latency-weighted waiting work per second of load time: several
// requests grouped on one model, or one completion on a small model, go before a lone reasoning
// request on a large one; bounded by max_wait.
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
