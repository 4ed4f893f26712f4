// The serving core: the scheduling and residency logic of cace, written once, and the one owner of
// residency. It owns the model table (states, bytes, pins, requests in flight, KV reservations),
// the per-model queues, the bytes promised to the next load and the device's rotation between
// models, and it fires every EvictionPolicy hook. A driver feeds it events and carries out what it
// asks through ServingBackend; the discrete-event simulator (lib/sim/) drives it on a virtual
// clock, the engine on the wall clock. It reads no clock and takes no lock: one thread calls it.
//
// Calls a driver makes, and what each fires (backend calls, policy hooks):
//  AddModel      registers a model (policy OnRegister). At any time.
//  RemoveModel   takes an idle model out (Unload and policy OnEvict if it was resident). Refused
//                with FailedPrecondition while the model is pinned, loading, evicting, or has
//                requests running or waiting: the host cancels them or waits; no drain is started
//                (a removal that must not lose work is the host's order to give, not the core's).
//  Submit        a request (policy OnAccess); it starts at once (StartRequest) or waits in its
//                model's queue, which may start a load (StartLoad) and evictions (Unload, OnEvict).
//                Errors change nothing:
//                  NotFound            unknown or removed model;
//                  InvalidArgument     max_tokens 0;
//                  AlreadyExists       a live request with the same id;
//                  OutOfRange          larger than the memory: the model's weights plus the
//                                      request's KV reservation exceed the whole budget (never fits);
//                  FailedPrecondition  it cannot fit while the pinned models keep their weights
//                                      (unpinning one would let it);
//                  ResourceExhausted   the queue bound is reached (max_waiting, max_waiting_per_model);
//                                      it may succeed later.
//  Cancel        a waiting request leaves its queue; a running one is stopped (StopRequest), its KV
//                reservation freed; either ends with Cancelled, or the reason given (a deadline:
//                DeadlineExceeded), through RequestEnded.
//  OnLoadFinished  the load started by StartLoad is done (policy OnLoad); waiting requests start.
//                With the bytes the backend measured it holding, those replace the registered
//                figure for every later decision; a load that holds more than the memory left
//                beside the others is undone (Unload) and handled as a failed load
//                (ResourceExhausted to its waiting requests).
//  OnLoadFailed  the load failed: its memory and any promise are returned, the model is absent
//                again, and every request waiting for it ends with the load's status
//                (RequestEnded). Not retried by the core: the driver retries a transient failure
//                before reporting it; a file that fails (truncated, corrupt) fails again. A later
//                request for the model tries a new load.
//  PickModelToStep / OnStepFinished  the device's rotation: the driver asks, whenever its device
//                is free, which resident model's batch runs one step (prefill or decode) next; the
//                core answers in round-robin order of the models with running requests (a model
//                joins the back of the ring when it gets work or ends a step with work left).
//                OnStepFinished reports the step and the requests it finished.
//  OnRequestFinished  a running request produced its last token (policy OnComplete; RequestEnded
//                with OK; then the Unload of a victim it was the last to drain; queued requests
//                may start).
//  OnTimer / NextTimer  idle models past their keep-alive are unloaded (OnEvict, Unload).
//  Preload       a model wanted with no request waiting: it joins the models waiting for the load
//                path (the scheduler sees it with no waiting work; first come first served by the
//                time of the preload).
//  Unload        the host's unload: an idle model now (Unload, OnEvict); a busy one drains first
//                (no new requests; queued ones wait for its reload). Refused for a pinned or
//                loading model. Counted as host_unloads, not evictions.
//  SetPinned / SetPriority / SetKeepAlive  per-model controls (see each).
//
// Tiers (CoreOptions::host_cache_bytes; lib/engine/README.md says why each rule is what it is):
//  the compute pool (the budget), a host-memory cache of evicted weights (HostCache), the disk.
//  Every eviction from the pool (the policy's, a keep-alive's, the host's Unload) moves the model
//  to the host cache when its weights fit the cache's budget (EvictToHostCache instead of
//  Unload); to make room there the policy chooses among the cached models (ChooseVictims over
//  them, their reload cost being the disk's), and those are dropped (DropFromHostCache). A load
//  of a cached model copies from the cache (StartLoadFrom with kHostCache) and the model leaves
//  the cache when the load ends. The policy's reload cost of a resident model is the time to
//  load it from the tier its eviction would send it to; the load scheduler's is the tier it
//  would come from now. Each tier's load times are measured apart.
//
// Prefetch (CoreOptions::prefetch): when the load path is idle, no load is waiting and no drain
//  is pending, a model the policy evicted after it had been used, whose weights fit the free
//  memory, is loaded unasked; the policy picks which (PickPrefetch). Prefetches never evict and
//  never delay a real request: a request that needs the load path, or KV room the prefetch
//  holds, cancels it (CancelLoad), unless it is for the model being prefetched.
//
// Rules it keeps:
//  - a request's KV reservation is (prompt_tokens + max_tokens) x the model's KV bytes per token,
//    what a server knows on arrival; it is held from admission to the request's end;
//  - a request for a resident model joins that model's batch when a batch slot and KV room are
//    free; otherwise it waits in its model's queue (first in, first out per model);
//  - one load at a time (loads share the disk/PCIe path); which waiting model is loaded next is
//    the LoadScheduler's choice among the waiting models of the highest priority;
//  - room for a load comes first from idle models (the EvictionPolicy chooses); when that is not
//    enough, the policy chooses among busy models too and those victims drain: they take no new
//    requests, finish the ones in flight, then free their memory;
//  - memory promised to the next load is not handed to KV caches meanwhile;
//  - pinned models are never evicted; a model idle past its keep-alive (its override, else the
//    policy's IdleTimeout) is unloaded (Ollama's keep-alive);
//  - every request accepted by Submit ends exactly once through RequestEnded.
// CheckInvariants() verifies the bookkeeping behind these rules (tests call it after each event).
#ifndef CACE_LIB_ENGINE_SERVING_CORE_H_
#define CACE_LIB_ENGINE_SERVING_CORE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/eviction_policy.h"
#include "cace/model_registry.h"
#include "lib/engine/host_cache.h"
#include "lib/engine/load_scheduler.h"
#include "lib/engine/state_file.h"
#include "lib/policy/residency_table.h"

namespace cace {

struct CoreRequest {
  std::uint64_t id = 0;  // unique among the core's live requests
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  Seconds arrival = 0;
  std::uint32_t prompt_tokens = 0;
  std::uint32_t max_tokens = 0;  // the client's output limit; the request never outgrows it
};

// The KV bytes a request reserves for its whole life: its prompt and at most max_tokens outputs.
std::uint64_t KvReservationBytes(std::uint32_t prompt_tokens, std::uint32_t max_tokens,
                                 std::uint64_t kv_bytes_per_token);

// What the core asks of the machinery around it. Calls come from inside the core's calls, on the
// driver's thread; a backend must not call back into the core from them.
class ServingBackend {
 public:
  virtual ~ServingBackend() = default;
  // Start loading; the driver calls ServingCore::OnLoadFinished or OnLoadFailed when done.
  virtual void StartLoad(ModelHandle model) = 0;
  // Free a model's memory now (it serves nothing).
  virtual void Unload(ModelHandle model) = 0;
  // The tiered forms (a backend without a host cache keeps the defaults, and a core without one
  // never asks for the cache). Load from this tier.
  virtual void StartLoadFrom(ModelHandle model, LoadTier /*tier*/) { StartLoad(model); }
  // Free the model's compute memory, keeping its weights in the host cache.
  virtual void EvictToHostCache(ModelHandle model) { Unload(model); }
  // Free the model's copy in the host cache.
  virtual void DropFromHostCache(ModelHandle /*model*/) {}
  // Stop the load in progress (a prefetch a real request preempts) and free what it held; true
  // when stopped (no OnLoadFinished / OnLoadFailed for it will come), false when it cannot be
  // (then the prefetch runs to its end).
  virtual bool CancelLoad(ModelHandle /*model*/) { return false; }
  // Start serving; the request joins its model's batch.
  virtual void StartRequest(const CoreRequest& request) = 0;
  // Stop a running request now (cancelled): drop it from its batch and free its sequence; the
  // driver does not report it finished afterwards (a report that crosses is ignored).
  virtual void StopRequest(const CoreRequest& request) = 0;
  // A request accepted by Submit has ended: OK when it finished, otherwise why not (Cancelled,
  // the failed load's status). Called exactly once per request.
  virtual void RequestEnded(const CoreRequest& request, const absl::Status& status) = 0;
  // How long the model's requests in flight are expected to take to finish (0 when idle).
  virtual Seconds DrainSeconds(ModelHandle model) const = 0;
};

struct CoreOptions {
  int max_batch = 32;        // sequences decoded together per model
  int upcoming_window = 64;  // queued requests shown to the eviction policy
  // Bounds on waiting requests, all models together and per model; 0: unbounded.
  std::size_t max_waiting = 0;
  std::size_t max_waiting_per_model = 0;
  // The host-memory cache of evicted weights; 0: none (evicted weights go back to the disk).
  std::uint64_t host_cache_bytes = 0;
  // Load evicted models into free memory while the load path is idle (see the top).
  bool prefetch = false;
};

struct CoreCounters {
  std::uint64_t loads = 0;
  std::uint64_t failed_loads = 0;
  std::uint64_t evictions = 0;  // every unload the policy or a keep-alive caused (not removals)
  std::uint64_t bytes_loaded = 0;
  std::uint64_t drains = 0;  // evictions that had to wait for requests in flight
  // Time a chosen load waited for its victims to drain: the load path stood still meanwhile.
  Seconds drain_wait_seconds = 0;
  std::uint64_t cancelled = 0;     // requests ended by Cancel, whatever the reason given
  std::uint64_t host_unloads = 0;  // models unloaded by Unload
  // Tiers: loads (and their bytes) copied from the host cache (the rest came from the disk);
  // evictions kept in the host cache; cached models dropped to make room there.
  std::uint64_t host_cache_loads = 0;
  std::uint64_t host_cache_bytes_loaded = 0;
  std::uint64_t host_cache_insertions = 0;
  std::uint64_t host_cache_drops = 0;
  // Prefetch: loads started unasked; those whose model served a request before its eviction;
  // those a real request cancelled. Prefetches count among loads and bytes_loaded too.
  std::uint64_t prefetches = 0;
  std::uint64_t prefetches_used = 0;
  std::uint64_t prefetches_cancelled = 0;
};

// A request a device step finished, with the tokens it generated in all.
struct FinishedRequest {
  std::uint64_t id = 0;
  std::uint32_t output_tokens = 0;
};

class ServingCore {
 public:
  ServingCore(std::uint64_t memory_budget_bytes, EvictionPolicy& policy,
              const LoadScheduler& scheduler, ServingBackend& backend, CoreOptions options = {});
  ~ServingCore();

  // Models. AddModel's errors are the table's (ResidencyTable::Register).
  absl::StatusOr<ModelHandle> AddModel(ModelSpec spec);
  absl::Status RemoveModel(ModelHandle model, Seconds now);

  // Requests.
  absl::Status Submit(const CoreRequest& request, Seconds now);
  // NotFound when no live request has this id; InvalidArgument for an OK reason.
  absl::Status Cancel(std::uint64_t request_id, Seconds now,
                      const absl::Status& why = absl::CancelledError("cancelled"));

  // Loads. FailedPrecondition when the model is not loading; InvalidArgument for a negative time
  // or (OnLoadFailed) an OK status. measured_weight_bytes 0: as registered.
  absl::Status OnLoadFinished(ModelHandle model, Seconds now, Seconds measured_load_seconds,
                              std::uint64_t measured_weight_bytes = 0);
  absl::Status OnLoadFailed(ModelHandle model, const absl::Status& status, Seconds now);

  // The device. PickModelToStep returns the next model of the ring (it leaves the ring while its
  // step runs), or nothing when no model has running requests. OnStepFinished ends that step:
  // the model rejoins the ring's back if it has running requests besides `finished`, then each
  // finished request is handled as OnRequestFinished (ids no longer running are skipped).
  std::optional<ModelHandle> PickModelToStep();
  // Whether some model's batch waits in the ring for its turn (none: the model whose step runs
  // would be picked again, were its step to end with nothing changed).
  bool ModelsWaitingForDevice() const { return !ring_.empty(); }
  absl::Status OnStepFinished(ModelHandle model, std::span<const FinishedRequest> finished,
                              Seconds now);
  // NotFound when the request is not running.
  absl::Status OnRequestFinished(std::uint64_t request_id, std::uint32_t output_tokens, Seconds now);

  // Unloads models idle past their keep-alive; the driver calls it at NextTimer().
  void OnTimer(Seconds now);
  // When the next keep-alive expires; infinity when none is pending.
  Seconds NextTimer() const;

  // The host's residency orders (see the list at the top). Absent or resident models: Preload is
  // a no-op for a model loading or resident, Unload for one absent or evicting (and it drops a
  // pending preload).
  absl::Status Preload(ModelHandle model, Seconds now);
  absl::Status Unload(ModelHandle model, Seconds now);

  // Controls. A pinned model is never evicted. Pinning is refused (FailedPrecondition, nothing
  // changed) for a model being evicted, when the pinned models' weights would exceed the budget,
  // or when a waiting request could then never fit. Unpinning may let waiting loads proceed.
  absl::Status SetPinned(ModelHandle model, bool pinned, Seconds now);
  // Higher priority loads first: the load scheduler chooses among the waiting models of the
  // highest priority. It does not protect a model from eviction (pinning does). Default 0.
  absl::Status SetPriority(ModelHandle model, int priority, Seconds now);
  // Overrides the policy's idle timeout for one model (nothing: the policy's again).
  absl::Status SetKeepAlive(ModelHandle model, std::optional<Seconds> keep_alive);

  // The read-only catalogue a host reads (ids, files, bytes, state, pins, in flight, queued).
  const ModelRegistry& registry() const;
  const CoreCounters& counters() const { return counters_; }
  const HostCache& host_cache() const { return host_cache_; }
  // The tier a load of this model would copy from now.
  LoadTier TierOf(ModelHandle model) const;

  // What the core and its policy learned, per model by name, for the state file (state_file.h):
  // load times per tier and the policy's usage. Restore applies what a previous run learned to
  // the models of the same name (others are skipped) before any decision; it returns how many
  // models it matched.
  std::vector<LearnedModel> ExportLearned(Seconds now) const;
  std::size_t RestoreLearned(std::span<const LearnedModel> learned, Seconds now);
  std::size_t waiting_requests() const { return waiting_total_; }
  std::uint64_t promised_bytes() const { return promised_bytes_; }

  // Internal consistency: resident + promised bytes within the budget, no absent or loading
  // model with requests running, no pinned model evicting, per-model counts and KV bytes equal
  // to the queues', the device ring consistent, the host cache within its budget holding only
  // absent models (or the one copying out of it), prefetch marks only on loading or resident
  // models. Internal error naming the first broken rule.
  absl::Status CheckInvariants() const;

 private:
  class Catalogue;
  // A request the core holds, with its KV reservation computed once.
  struct Held {
    CoreRequest request;
    std::uint64_t kv_bytes = 0;
  };
  struct ModelQueue {
    std::deque<Held> waiting;
    PerKind<std::uint32_t> waiting_by_kind{};
    std::vector<Held> running;
    std::uint64_t loads_at_wait_start = 0;  // counters_.loads when it began waiting or last loaded
    std::optional<Seconds> preload_since;  // Preload asked for it, no load started since
    bool unload_ordered = false;           // its eviction is the host's Unload, not the policy's
    bool in_ring = false;   // in ring_, waiting for its turn on the device
    bool stepping = false;  // its step runs on the device
    LoadTier loading_from = LoadTier::kDisk;  // while loading
    bool used_since_load = false;  // a request started on it since its last load
    bool prefetch_eligible = false;  // the policy evicted it after use; not loaded since
    bool prefetched = false;  // loaded (or loading) by a prefetch, no request started since
  };

  absl::Status CheckFits(ModelHandle model, std::uint64_t kv_bytes, ModelHandle pin_also) const;
  std::uint64_t PinnedWeightBytes(ModelHandle except) const;
  void FailWaiting(ModelHandle model, const absl::Status& status, Seconds now);
  // Ends the waiting requests that can no longer ever fit (CheckFits), with its status.
  void EndImpossibleWaiting();
  void AdmitWaiting(ModelHandle model, Seconds now);
  bool TryAdmit(ModelHandle model, const Held& held, Seconds now);
  void PopWaiting(ModelHandle model, std::size_t index);
  void ReleaseRunning(ModelHandle model, std::size_t index);
  void FinishDrain(ModelHandle model, Seconds now);
  void AfterRoomFreed(Seconds now);
  void EndRequest(const CoreRequest& request, const absl::Status& status);
  void JoinRing(ModelHandle model);
  void ScheduleLoads(Seconds now);
  void StartLoading(ModelHandle model, Seconds now);
  std::uint64_t LoadNeed(ModelHandle model) const;
  bool MakeRoomForLoad(ModelHandle model, std::uint64_t bytes, Seconds now);
  void TellPolicyEvicted(const Reservation& reservation, Seconds now);
  // for_room: the policy chose it to make room (it may be prefetched later), not a keep-alive
  // (nor the host's Unload, which its queue records).
  void Evict(ModelHandle model, Seconds now, bool for_room = true);
  // Tiers and prefetch (serving_core_tiers.cc).
  void KeepInHostCache(ModelHandle model, Seconds now);
  void DropFromHostCache(ModelHandle model);
  Seconds CurrentLoadSeconds(ModelHandle model) const;
  std::span<const Seconds> ReloadSecondsAfterEviction();
  void FinishTieredLoad(ModelHandle model, Seconds measured_load_seconds, Seconds now);
  void MaybePrefetch(Seconds now);
  bool CancelPrefetch();
  bool PrefetchLoading() const;
  bool Wanted(ModelHandle model) const;
  Seconds KeepAlive(ModelHandle model) const;

  std::uint64_t FreeBytes() const;
  std::vector<ModelHandle>& Upcoming();
  std::vector<WaitingModel>& WaitingForLoad();

  ResidencyTable table_;
  EvictionPolicy& policy_;
  const LoadScheduler& scheduler_;
  ServingBackend& backend_;
  CoreOptions options_;
  CoreCounters counters_;
  std::unique_ptr<Catalogue> catalogue_;

  std::vector<ModelQueue> queues_;  // per model handle
  absl::flat_hash_map<std::uint64_t, ModelHandle> live_;  // request id -> model, waiting or running
  std::size_t waiting_total_ = 0;
  std::deque<ModelHandle> ring_;  // models whose batch waits for a device step, in turn order
  bool loading_ = false;
  std::optional<ModelHandle> next_load_;     // chosen, waiting for draining victims
  std::uint64_t promised_bytes_ = 0;         // kept free for next_load_
  std::optional<Seconds> drain_wait_since_;  // when next_load_ began waiting for drains
  std::vector<ModelHandle> draining_;        // victims still serving requests
  std::vector<ModelHandle> upcoming_;        // scratch
  std::vector<WaitingModel> waiting_models_;  // scratch
  std::vector<Seconds> drain_estimates_;      // scratch, per model
  HostCache host_cache_;
  std::vector<Seconds> reload_estimates_;     // scratch, per model
  std::vector<Candidate> prefetch_candidates_;  // scratch
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_SERVING_CORE_H_
