// The scheduling and residency logic of cace, written once. A driver feeds it events (a request
// arrived, a load finished, a request finished, a timer fired) and carries out what it asks
// through ServingBackend. The discrete-event simulator drives it on a virtual clock with a
// simulated backend; a real engine drives it with the real loader and runtime.
//
// Rules it keeps:
//  - a request for a resident model joins that model's batch when a batch slot and KV room are
//    free; otherwise it waits in its model's queue;
//  - one load at a time (loads share the disk/PCIe path); which waiting model is loaded next is
//    the LoadScheduler's choice;
//  - room for a load comes first from idle models (the EvictionPolicy chooses); when that is not
//    enough, the policy chooses among busy models too and those victims drain: they take no new
//    requests, finish the ones in flight, then free their memory.;
//  - memory promised to the next load is not handed to KV caches meanwhile;
//  - a model idle past the policy's IdleTimeout is unloaded (Ollama's keep-alive).
#ifndef CACE_LIB_ENGINE_SERVING_CORE_H_
#define CACE_LIB_ENGINE_SERVING_CORE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "cace/eviction_policy.h"
#include "cace/model_registry.h"
#include "lib/engine/load_scheduler.h"

namespace cace {

struct CoreRequest {
  std::uint64_t id = 0;
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  Seconds arrival = 0;
  std::uint64_t kv_bytes = 0;  // KV cache the request holds while it runs (prompt + output)
};

// What the core asks of the machinery around it.
class ServingBackend {
 public:
  virtual ~ServingBackend() = default;
  // Start loading; the driver calls ServingCore::OnLoadFinished when done.
  virtual void StartLoad(ModelHandle model) = 0;
  // Free a model's memory now (it serves nothing).
  virtual void Unload(ModelHandle model) = 0;
  // Start serving; the driver calls ServingCore::OnRequestFinished when its last token is out.
  virtual void StartRequest(const CoreRequest& request) = 0;
  // How long the model's requests in flight are expected to take to finish (0 when idle).
  virtual Seconds DrainSeconds(ModelHandle model) const = 0;
};

struct CoreOptions {
  int max_batch = 32;       // sequences decoded together per model
  int upcoming_window = 64; // queued requests shown to the eviction policy
};

struct CoreCounters {
  std::uint64_t loads = 0;
  std::uint64_t evictions = 0;  // every unload, whether to make room or by idle timeout
  std::uint64_t bytes_loaded = 0;
  std::uint64_t drains = 0;  // evictions that had to wait for requests in flight
  // Time a chosen load waited for its victims to drain: the load path stood still meanwhile.
  Seconds drain_wait_seconds = 0;
};

class ServingCore {
 public:
  ServingCore(ModelRegistry& registry, EvictionPolicy& policy, const LoadScheduler& scheduler,
              ServingBackend& backend, CoreOptions options = {});

  void Submit(const CoreRequest& request, Seconds now);
  // A model registered after the core was made.
  void OnModelAdded(ModelHandle model);
  // Takes a waiting request out of its queue; false when it is not waiting (running or unknown).
  bool Cancel(const CoreRequest& request, Seconds now);
  // The load failed: the model is absent again and nothing is promised to it. The driver has
  // already ended (Cancel) the requests that waited for it.
  void OnLoadFailed(ModelHandle model, Seconds now);
  void OnLoadFinished(ModelHandle model, Seconds now, Seconds measured_load_seconds);
  void OnRequestFinished(const CoreRequest& request, std::uint32_t output_tokens, Seconds now);
  // Unloads models idle past their timeout; the driver calls it at NextTimer().
  void OnTimer(Seconds now);
  // When the next idle timeout falls; infinity when none is pending.
  Seconds NextTimer() const;

  const CoreCounters& counters() const { return counters_; }
  std::size_t waiting_requests() const { return waiting_total_; }

 private:
  struct ModelQueue {
    std::deque<CoreRequest> waiting;
    PerKind<std::uint32_t> waiting_by_kind{};
    std::vector<CoreRequest> running;
    std::uint64_t loads_at_wait_start = 0;  // counters_.loads when it began waiting or last loaded
  };

  void AdmitWaiting(ModelHandle model, Seconds now);
  bool TryAdmit(ModelHandle model, const CoreRequest& request, Seconds now);
  void ScheduleLoads(Seconds now);
  void StartLoading(ModelHandle model, Seconds now);
  std::uint64_t LoadNeed(ModelHandle model) const;
  bool MakeRoomForLoad(ModelHandle model, std::uint64_t bytes, Seconds now);
  void Evict(ModelHandle model, Seconds now);

  void RunPendingEvictions(Seconds now);
  std::uint64_t FreeBytes() const;
  std::vector<ModelHandle>& Upcoming();
  std::vector<WaitingModel>& WaitingForLoad();

  ModelRegistry& registry_;
  EvictionPolicy& policy_;
  const LoadScheduler& scheduler_;
  ServingBackend& backend_;
  CoreOptions options_;
  CoreCounters counters_;

  std::vector<ModelQueue> queues_;          // per model handle
  std::size_t waiting_total_ = 0;
  bool loading_ = false;
  std::optional<ModelHandle> next_load_;    // chosen, waiting for draining victims
  std::uint64_t promised_bytes_ = 0;        // kept free for next_load_
  std::optional<Seconds> drain_wait_since_; // when next_load_ began waiting for drains
  std::vector<ModelHandle> draining_;       // victims still serving requests
  std::vector<ModelHandle> upcoming_;       // scratch
  std::vector<WaitingModel> waiting_models_;  // scratch
  std::vector<Seconds> drain_estimates_;      // scratch, per model
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_SERVING_CORE_H_
