// The engine's scheduler: the serving core on the wall clock. Every method runs on the scheduler
// thread, which owns the registry, the policy, the core, every model's loaded weights and batch,
// every live request and the metrics. It carries out what the core asks (ServingBackend) by
// posting loads to the load worker and batch steps to the compute worker; their results come back
// as tasks on the scheduler thread.
#ifndef CACE_LIB_ENGINE_ENGINE_SCHEDULER_H_
#define CACE_LIB_ENGINE_ENGINE_SCHEDULER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cace/clock.h"
#include "cace/engine.h"
#include "lib/policy/policies.h"
#include "lib/engine/live_request.h"
#include "lib/engine/served_model.h"
#include "lib/engine/serving_core.h"
#include "lib/engine/state_file.h"
#include "lib/engine/task_thread.h"
#include "lib/loader/file_source.h"
#include "lib/runtime/host_buffer.h"
#include "lib/runtime/host_model_copy.h"

namespace cace {

// Observation points for tests (lib/engine/engine_testing.h); all optional, each called on the
// thread named.
struct EngineHooks {
  // Load worker, before the weights are read.
  std::function<void(const std::string& model)> before_load;
  // Scheduler thread, when a load has ended (its status: OK, or why it failed).
  std::function<void(const std::string& model, const absl::Status& status)> after_load;
  // Scheduler thread, when a load succeeded: the tier its bytes came from and the instance (its
  // weights in the pool), before any request uses it.
  std::function<void(const std::string& model, LoadTier tier, const ModelInstance& instance)> on_loaded;
  // Compute worker, before a batch step: the requests in it, and those among them still to
  // prefill.
  std::function<void(const std::vector<RequestId>& batch, const std::vector<RequestId>& prefill)> before_step;
  // Scheduler thread, when a model's weights are freed: the core's count of its requests in flight
  // and whether it is pinned (an invariant check: both must be nothing).
  std::function<void(const std::string& model, std::size_t in_flight, bool pinned)> on_unload;
  // Scheduler thread, after every task: the core's CheckInvariants() and the host cache's bytes
  // against the core's count (costly; tests only).
  std::function<void(const absl::Status&)> on_invariants;
  // Fault injection (lib/faults/): where loads read the weights from (null: the files), and a
  // pool in front of the engine's own (null: the engine's pool as it is); both outlive the Engine
  // or are owned by it.
  const FileSource* files = nullptr;
  std::function<std::unique_ptr<MemoryPool>(std::unique_ptr<MemoryPool>)> wrap_pool;
};

// What the scheduler needs from around it: the threads it posts to and the boundary it tells
// when a request has ended.
struct SchedulerContext {
  const EngineOptions* options = nullptr;
  MemoryPool* pool = nullptr;
  TaskThread* scheduler_thread = nullptr;
  TaskThread* load_worker = nullptr;
  TaskThread* compute_worker = nullptr;
  TaskThread* policy_worker = nullptr;  // the adaptive policy's shadow replays
  const Clock* clock = nullptr;  // EngineOptions::clock, read from every engine thread
  const EngineHooks* hooks = nullptr;
  // Called on the scheduler thread just before a request's on_done (it is no longer pending:
  // Cancel answers false), and just after on_done returned (WaitIdle may return).
  std::function<void(RequestId)> before_done;
  std::function<void()> after_done;
  // Where the engine's warnings go (EngineOptions::on_warning, or standard error).
  std::function<void(const std::string&)> warn;
};

class EngineScheduler final : public ServingBackend {
 public:
  static absl::StatusOr<std::unique_ptr<EngineScheduler>> Create(SchedulerContext context);
  ~EngineScheduler() override;

  absl::StatusOr<ModelHandle> AddModel(const ModelOptions& options, std::shared_ptr<const ModelFiles> files);
  // Ends the model's requests (NotFound) and takes it out once its step and load have ended.
  absl::Status RemoveModel(const std::string& id);
  void Submit(std::unique_ptr<LiveRequest> request);
  void Cancel(RequestId id);
  absl::Status Pin(const std::string& id, bool pinned);
  absl::Status SetKeepAlive(const std::string& id, double seconds);
  absl::Status SetPriority(const std::string& id, int priority);
  absl::Status Preload(const std::string& id);
  absl::Status Unload(const std::string& id);
  // Ends every pending request (Cancelled), cancels a load under way and starts nothing new.
  void Shutdown();
  // Nothing pending, no step and no load under way: after Shutdown, nothing will be posted to the
  // workers again.
  bool Quiet() const {
    return requests_.empty() && !computing_ && loads_posted_ == 0 && !adapting_ && !compact_then_load_;
  }

  // What a previous run learned (the state file), applied to each model as AddModel adds it.
  void Restore(LearnedState learned) { restored_ = std::move(learned); }
  // What this run learned, and what the previous one learned of models not added this time.
  LearnedState Learned() const;

  MetricsSnapshot Metrics() const;
  std::vector<ResidencyEntry> ListModels() const;

  // The scheduler thread's timer: keep-alive unloads and request deadlines.
  TaskThread::Clock::time_point NextWake() const;
  void OnWake();

  // Runs `task` on the scheduler thread, then gives the device its next step and calls the
  // on_done callbacks the task caused (outside every core call, so a callback may re-enter).
  void PostTask(std::function<void()> task);
  // The same tail, for a task already on the scheduler thread.
  void AfterTask();

  // ServingBackend: what the core asks, from inside its calls.
  void StartLoad(ModelHandle model) override;
  void StartLoadFrom(ModelHandle model, LoadTier tier) override;
  void Unload(ModelHandle model) override;
  void EvictToHostCache(ModelHandle model) override;
  void DropFromHostCache(ModelHandle model) override;
  bool CancelLoad(ModelHandle model) override;
  void StartRequest(const CoreRequest& request) override;
  void StopRequest(const CoreRequest& request) override;
  void RequestEnded(const CoreRequest& request, const absl::Status& status) override;
  Seconds DrainSeconds(ModelHandle model) const override;

 private:
  struct ModelEntry {
    ModelOptions options;
    std::shared_ptr<const ModelFiles> files;
    std::unique_ptr<ModelInstance> instance;  // while resident
    // Its weights in the host cache, while the core holds it there (shared with a load copying
    // out of it). Null while cached only when the copy could not be made (host_copy_failed): a
    // reload then reads the files.
    std::shared_ptr<const HostModelCopy> host_copy;
    bool host_copy_failed = false;
    std::vector<LiveRequest*> batch;          // admitted requests, in admission order
    Seconds last_step_seconds = 0;            // duration of its last batch step
    bool removing = false;                    // RemoveModel asked; done once nothing runs
    bool removed = false;
    ModelMetrics metrics;
  };
  // A load on the load worker. The worker sets the result once (under mu); the scheduler thread
  // takes it in FinishLoad, or in CancelLoad, which waits for it.
  struct LoadJob {
    ModelHandle model = 0;
    LoadTier tier = LoadTier::kDisk;  // where the bytes really come from
    std::shared_ptr<const HostModelCopy> copy;  // the source when tier is the host cache
    std::stop_source stop;
    bool after_compaction = false;  // the retry of a load the pool's fragmentation refused
    bool cancelled = false;  // scheduler thread: CancelLoad took the result, the core was told
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;  // guarded
    absl::StatusOr<std::unique_ptr<ModelInstance>> result = absl::UnknownError("not loaded");  // guarded
    Seconds seconds = 0;  // guarded
  };
  // The batch steps the compute worker runs for one model: one, or several in a row while
  // may_continue holds (a chain, which spares the two thread hand-offs a step's end costs).
  struct StepJob {
    ModelHandle model = 0;
    Backend* backend = nullptr;
    std::vector<LiveRequest*> requests;
    absl::Status status;
    Seconds seconds = 0;  // of its last step
    // Set at dispatch when no other model waits for the device; cleared by the scheduler as soon
    // as anything happens that could change the next step (StopChain). The compute worker reads
    // it after each step: were the step to end, the scheduler would hand the same batch back.
    std::atomic<bool> may_continue{false};
  };

  EngineScheduler(SchedulerContext context, std::unique_ptr<EvictionPolicy> policy,
                  std::unique_ptr<LoadScheduler> load_scheduler);
  Seconds Now() const { return context_.clock->Now(); }
  absl::StatusOr<ModelHandle> Find(const std::string& id) const;
  // The bytes the model's KV caches really hold now (the backend's figure; 0 when absent).
  static std::uint64_t KvAllocatedBytes(const ModelEntry& m);
  // A control on the model named `id` (NotFound when there is none).
  template <typename Control>
  absl::Status OnModel(const std::string& id, Control control);
  LiveRequest* Live(RequestId id);

  // Posts a load to the load worker (StartLoadFrom, and the retry after a compaction).
  void PostLoad(ModelHandle model, LoadTier tier, bool after_compaction);
  void FinishLoad(LoadJob& job);
  // A load that ended without the model: counted, its waiting requests told `why` (prefixed with
  // the model's name), a removal that waited for it retried.
  void FailLoad(ModelHandle model, const absl::Status& why);
  // A load the pool refused for want of one free block that Compact would make (its free bytes
  // are in pieces between KV caches and weights): the pool is compacted once the device is idle,
  // every resident model's weights re-pointed, and the load tried once more. The core sees one
  // load, under way throughout. Called after each step and each load's end; does nothing while
  // a step runs.
  void CompactThenLoadIfIdle();
  // The host cache's bytes held against the core's count, after the core's own checks.
  absl::Status CheckInvariants() const;
  // What the state file holds for a model being added: its learned figures (load times only if
  // its files are unchanged since they were measured), and the load profile's time as
  // `load_estimate` when there is one for its unchanged files.
  std::optional<LearnedModel> RestoredFor(const std::string& id, const std::string& path, Seconds& load_estimate) const;
  void MaybeStep();
  // On the compute worker: steps the job's batch, again while it may continue and none of its
  // requests ended.
  void RunChain(StepJob& job);
  // One step of the job's batch, streaming each request's token.
  void RunStep(StepJob& job);
  // The chain under way ends with its current step: something may change the next one.
  void StopChain();
  void FinishStep(std::unique_ptr<StepJob> job);
  // Ends a request early through the core (now, or when the step it is in ends) with `why`.
  void EndEarly(LiveRequest& request, absl::Status why);
  void TryRemove(ModelHandle model);
  // The result of a request that ends (with the metrics it adds), queued for its on_done.
  void Finish(std::unique_ptr<LiveRequest> request, absl::Status status);
  void FlushEnded();
  // Hands a due round of the adaptive policy's shadow replays to the policy worker.
  void Adapt();

  SchedulerContext context_;
  const HostBufferAllocator host_allocator_;  // plain host memory, or pinned for the CUDA backend
  LearnedState restored_;  // the state file's, less the models AddModel has applied it to
  std::unique_ptr<EvictionPolicy> policy_;
  std::unique_ptr<LoadScheduler> load_scheduler_;
  AdaptiveCacePolicy* adaptive_ = nullptr;  // policy_, when it is the adaptive one
  std::unique_ptr<ServingCore> core_;
  std::vector<ModelEntry> models_;  // by handle
  std::unordered_map<RequestId, std::unique_ptr<LiveRequest>> requests_;
  // Ended, with their on_done still to call.
  std::vector<std::pair<std::unique_ptr<LiveRequest>, RequestResult>> ended_;
  // Request deadlines, soonest first: (deadline, id); entries of ended requests are skipped.
  std::priority_queue<std::pair<Seconds, RequestId>, std::vector<std::pair<Seconds, RequestId>>, std::greater<>>
      deadlines_;
  bool computing_ = false;
  std::shared_ptr<LoadJob> load_;  // the load under way (one at a time)
  // The load that waits for the pool's compaction (CompactThenLoadIfIdle), with its tier.
  struct CompactionRetry {
    ModelHandle model = 0;
    LoadTier tier = LoadTier::kDisk;
  };
  std::optional<CompactionRetry> compact_then_load_;
  int loads_posted_ = 0;  // load tasks whose FinishLoad has not run (a cancelled one's too)
  StepJob* stepping_ = nullptr;  // the job with the compute worker (while computing_)
  static constexpr int kMaxDeferredSteps = 64;
  int deferred_steps_ = 0;  // tasks in a row that left the idle device for the tasks queued behind
  bool adapting_ = false;   // a round of shadow replays is with the policy worker
  std::uint64_t compactions_ = 0;  // of the pool, for a load (MetricsSnapshot::pool_compactions)
  bool shutting_down_ = false;
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_ENGINE_SCHEDULER_H_
