#include "lib/engine/engine_scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cuda/pinned_host_buffer.h"
#include "lib/policy/policies.h"
#include "lib/sim/policy_catalog.h"

namespace cace {

namespace {

constexpr Seconds kNever = std::numeric_limits<Seconds>::infinity();

absl::Status PolicyFor(const EngineOptions& options, std::unique_ptr<EvictionPolicy>* policy,
                       std::unique_ptr<LoadScheduler>* load_scheduler) {
  if (options.custom_policy) {
    *policy = options.custom_policy();
    if (*policy == nullptr) return absl::InvalidArgumentError("custom_policy made no policy");
    *load_scheduler = std::make_unique<FcfsLoadScheduler>();
    return absl::OkStatus();
  }
  if (options.policy == "oracle") {
    return absl::InvalidArgumentError("policy 'oracle' knows the future; a live engine cannot run it");
  }
  if (options.cace_weights && options.policy == "cace") {
    *policy = std::make_unique<CacePolicy>(std::make_unique<CaceScorer>(*options.cace_weights));
    *load_scheduler = std::make_unique<ContextLoadScheduler>();
    return absl::OkStatus();
  }
  if (options.policy == "cace-adaptive") {
    // Its shadow replays run on the policy worker, off the request path (EngineScheduler::Adapt).
    *policy = std::make_unique<AdaptiveCacePolicy>(AdaptiveCaceOptions{
        .initial = options.cace_weights.value_or(CaceWeights{}), .capacity_bytes = options.memory_budget_bytes,
        .deferred = true});
    *load_scheduler = std::make_unique<ContextLoadScheduler>();
    return absl::OkStatus();
  }
  if (options.cace_weights) {
    return absl::InvalidArgumentError(
        absl::StrCat("cace_weights apply to 'cace' and 'cace-adaptive', not '", options.policy, "'"));
  }
  absl::StatusOr<PolicySetup> setup =
      PolicyByName(options.policy, CatalogOptions{.memory_budget_bytes = options.memory_budget_bytes});
  if (!setup.ok()) return absl::InvalidArgumentError(setup.status().message());
  *policy = setup->make_policy({});
  *load_scheduler = setup->make_scheduler();
  return absl::OkStatus();
}

Residency ResidencyOf(ModelState state) {
  switch (state) {
    case ModelState::kAbsent: return Residency::kAbsent;
    case ModelState::kLoading: return Residency::kLoading;
    case ModelState::kResident: return Residency::kResident;
    case ModelState::kEvicting: return Residency::kEvicting;
  }
  return Residency::kAbsent;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EngineScheduler>> EngineScheduler::Create(SchedulerContext context) {
  std::unique_ptr<EvictionPolicy> policy;
  std::unique_ptr<LoadScheduler> load_scheduler;
  if (absl::Status st = PolicyFor(*context.options, &policy, &load_scheduler); !st.ok()) return st;
  return std::unique_ptr<EngineScheduler>(
      new EngineScheduler(std::move(context), std::move(policy), std::move(load_scheduler)));
}

EngineScheduler::EngineScheduler(SchedulerContext context, std::unique_ptr<EvictionPolicy> policy,
                                 std::unique_ptr<LoadScheduler> load_scheduler)
    : context_(std::move(context)),
      host_allocator_(context_.options->backend == BackendKind::kCuda ? HostBufferAllocator(AllocatePinnedHostBuffer)
                                                                       : HostBufferAllocator(AllocatePlainHostBuffer)),
      policy_(std::move(policy)),
      load_scheduler_(std::move(load_scheduler)),
      adaptive_(dynamic_cast<AdaptiveCacePolicy*>(policy_.get())),
      core_(std::make_unique<ServingCore>(context_.options->memory_budget_bytes, *policy_, *load_scheduler_, *this,
                                          CoreOptions{.max_batch = context_.options->max_batch,
                                                      .host_cache_bytes = context_.options->host_cache_bytes,
                                                      .prefetch = context_.options->prefetch})) {}

EngineScheduler::~EngineScheduler() = default;

void EngineScheduler::PostTask(std::function<void()> task) {
  context_.scheduler_thread->Post([this, task = std::move(task)] {
    StopChain();  // any task may change what the device should step next
    task();
    AfterTask();
  });
}

void EngineScheduler::StopChain() {
  if (stepping_ != nullptr) stepping_->may_continue.store(false, std::memory_order_release);
}

void EngineScheduler::AfterTask() {
  // With the device idle and more tasks already posted (a burst of Submits), the step waits for
  // them: the requests they bring join its batch instead of waiting a whole step behind the
  // first. Bounded, so that a steady stream of tasks cannot keep the device idle.
  if (!computing_ && deferred_steps_ < kMaxDeferredSteps && context_.scheduler_thread->HasQueued()) {
    ++deferred_steps_;
  } else {
    deferred_steps_ = 0;
    MaybeStep();
  }
  Adapt();
  if (context_.hooks->on_invariants) context_.hooks->on_invariants(CheckInvariants());
  FlushEnded();
}

void EngineScheduler::Adapt() {
  if (adaptive_ == nullptr || adapting_ || shutting_down_) return;
  std::optional<AdaptiveCacePolicy::Adaptation> round = adaptive_->TakeAdaptation();
  if (!round) return;
  adapting_ = true;
  context_.policy_worker->Post([this, round = std::move(*round)] {
    const CaceWeights weights = round.Run();
    PostTask([this, weights] {
      adapting_ = false;
      adaptive_->ApplyAdaptation(weights);
    });
  });
}

void EngineScheduler::FlushEnded() {
  // A callback may end more requests (Cancel, RemoveModel run inline): loop until none is left.
  while (!ended_.empty()) {
    auto batch = std::exchange(ended_, {});
    for (auto& [request, result] : batch) {
      context_.before_done(request->id);
      if (request->callbacks.on_done) request->callbacks.on_done(result);
      context_.after_done();
    }
  }
}

absl::StatusOr<ModelHandle> EngineScheduler::Find(const std::string& id) const {
  absl::StatusOr<ModelHandle> handle = core_->registry().Find(id);
  if (!handle.ok() || models_[*handle].removing) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
  return handle;
}

LiveRequest* EngineScheduler::Live(RequestId id) {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second.get();
}

namespace {

std::optional<Seconds> KeepAliveOverride(double seconds) {
  if (seconds < 0) return std::nullopt;
  return seconds;
}

}  // namespace

absl::StatusOr<ModelHandle> EngineScheduler::AddModel(const ModelOptions& options,
                                                      std::shared_ptr<const ModelFiles> files) {
  const ModelFootprint& f = files->footprint;
  // Before the first measurement: the state file's, else the bytes at 1 GB/s, a cold page cache's pace.
  Seconds load_estimate = static_cast<Seconds>(f.weight_bytes) / 1e9;
  const std::optional<LearnedModel> learned = RestoredFor(options.id, files->path, load_estimate);
  ModelSpec spec{options.id, {files->path},
                 f.format == ModelFormat::kGguf ? WeightFormat::kGguf : WeightFormat::kSafetensors, f.weight_bytes,
                 f.kv_bytes_per_token, load_estimate,
                 // From the host cache, until measured: a memory copy's pace, 4 GB/s (what
                 // tier_reload_bench measures on a small shared machine; pinned copies to a GPU run faster).
                 static_cast<Seconds>(f.weight_bytes) / 4e9};
  absl::StatusOr<ModelHandle> handle = core_->AddModel(spec);
  if (!handle.ok()) return handle.status();
  const double keep_alive =
      options.keep_alive_seconds >= 0 ? options.keep_alive_seconds : context_.options->default_keep_alive_seconds;
  absl::Status controls = core_->SetKeepAlive(*handle, KeepAliveOverride(keep_alive));
  if (controls.ok()) controls = core_->SetPriority(*handle, options.priority, Now());
  if (controls.ok() && options.pin) controls = core_->SetPinned(*handle, true, Now());
  if (!controls.ok()) {
    (void)core_->RemoveModel(*handle, Now());  // just added, idle: cannot be refused
    return controls;
  }
  if (*handle >= models_.size()) models_.resize(*handle + 1);
  ModelEntry& entry = models_[*handle];
  entry.options = options;
  entry.options.keep_alive_seconds = keep_alive;
  entry.files = std::move(files);
  entry.metrics.model = options.id;
  if (learned) {
    core_->RestoreLearned(std::span(&*learned, 1), Now());
    std::erase_if(restored_.models, [&](const LearnedModel& l) { return l.name == options.id; });
  }
  return *handle;
}

absl::Status EngineScheduler::RemoveModel(const std::string& id) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  ModelEntry& m = models_[*model];
  if (m.options.pin) (void)core_->SetPinned(*model, false, Now());
  m.removing = true;
  std::vector<LiveRequest*> its;
  for (auto& [rid, r] : requests_) {
    if (r->model == *model) its.push_back(r.get());
  }
  for (LiveRequest* r : its) EndEarly(*r, absl::NotFoundError(absl::StrCat("model '", id, "' was removed")));
  TryRemove(*model);
  return absl::OkStatus();
}

void EngineScheduler::TryRemove(ModelHandle model) {
  ModelEntry& m = models_[model];
  if (!m.removing || m.removed) return;
  // Refused while a load or a step of it is under way; retried when they end.
  if (core_->RemoveModel(model, Now()).ok()) {
    m.removed = true;
    m.instance.reset();
    m.host_copy.reset();
  }
}

void EngineScheduler::Finish(std::unique_ptr<LiveRequest> owned, absl::Status status) {
  LiveRequest& r = *owned;
  const Seconds now = Now();
  RequestResult result;
  result.id = r.id;
  if (status.ok()) {
    result.reason = r.sequence != nullptr && r.sequence->finish_reason() == FinishReason::kMaxTokens ? EndReason::kLength
                                                                                                      : EndReason::kStop;
  } else {
    result.reason = status.code() == absl::StatusCode::kCancelled ? EndReason::kCancelled : EndReason::kError;
  }
  result.usage.prompt_tokens = static_cast<std::int64_t>(r.prompt.size());
  result.usage.completion_tokens = static_cast<std::int64_t>(r.tokens_stepped);
  if (r.output) result.text = r.output->text();
  result.timings.end_to_end = now - r.submitted;
  if (r.admitted) result.timings.queued = r.admitted_at - r.submitted;
  if (r.load_done_at >= 0) result.timings.waited_for_load = r.load_done_at - r.submitted;
  if (r.first_token_at >= 0) result.timings.first_token = r.first_token_at - r.submitted;
  // The host's own refusal comes back as it gave it (the core names the request in its message).
  const bool refused_by_host = !r.refused_by_host.ok() && r.end_early == r.refused_by_host;
  result.status = refused_by_host ? r.refused_by_host : std::move(status);

  KindMetrics& k = models_[r.model].metrics.kinds[KindIndex(r.kind)];
  (result.status.ok() ? k.requests_ok : k.requests_failed) += 1;
  k.prompt_tokens += static_cast<std::uint64_t>(result.usage.prompt_tokens);
  k.completion_tokens += static_cast<std::uint64_t>(result.usage.completion_tokens);
  k.end_to_end.Observe(result.timings.end_to_end);
  if (result.timings.queued >= 0) k.queue_time.Observe(result.timings.queued);
  if (result.timings.first_token >= 0) k.ttft.Observe(result.timings.first_token);
  r.sequence.reset();  // its KV cache goes back to the pool
  ended_.emplace_back(std::move(owned), std::move(result));
}

void EngineScheduler::Submit(std::unique_ptr<LiveRequest> request) {
  LiveRequest& r = *request;
  if (shutting_down_) return Finish(std::move(request), absl::CancelledError("the engine is shutting down"));
  if (r.model >= models_.size() || models_[r.model].removing) {
    return Finish(std::move(request), absl::NotFoundError("its model was removed"));
  }
  const Seconds now = Now();
  if (r.keep_alive_seconds >= 0 && core_->SetKeepAlive(r.model, r.keep_alive_seconds).ok()) {
    models_[r.model].options.keep_alive_seconds = r.keep_alive_seconds;  // as Ollama's keep_alive
  }
  r.waiting_for_load = core_->registry().Get(r.model)->state != ModelState::kResident;
  const CoreRequest core{r.id, r.model, r.kind, now, static_cast<std::uint32_t>(r.prompt.size()),
                         static_cast<std::uint32_t>(r.max_tokens)};
  auto [it, inserted] = requests_.emplace(r.id, std::move(request));
  // The core may start it at once (StartRequest), which finds it in requests_.
  const absl::Status accepted = core_->Submit(core, now);
  if (!accepted.ok()) {
    std::unique_ptr<LiveRequest> refused = std::move(it->second);
    requests_.erase(it);
    return Finish(std::move(refused), accepted);
  }
  if (r.deadline != kNever) deadlines_.emplace(r.deadline, r.id);
}

void EngineScheduler::StartRequest(const CoreRequest& core_request) {
  LiveRequest& r = *Live(core_request.id);
  ModelEntry& m = models_[r.model];
  StopChain();  // it joins a batch: the next step changes (also when a callback submits inline)
  r.admitted = true;
  r.admitted_at = Now();
  m.batch.push_back(&r);
  GenerationOptions generation;
  generation.max_new_tokens = r.max_tokens;
  generation.stop_tokens = m.files->stop_tokens;
  generation.sampling = SamplingOptions{r.sampling.temperature, r.sampling.top_k, r.sampling.top_p, r.sampling.seed};
  absl::StatusOr<std::unique_ptr<Sequence>> sequence =
      Sequence::Start(&m.instance->backend(), r.prompt, generation, &m.instance->pool());
  if (!sequence.ok()) {
    // Inside the core's call: end it from a task of its own (MaybeStep skips it meanwhile).
    PostTask([this, id = r.id, status = sequence.status()] {
      if (LiveRequest* live = Live(id)) EndEarly(*live, status);
    });
    return;
  }
  r.sequence = *std::move(sequence);
  r.output = std::make_unique<OutputStream>(*m.files->tokenizer, r.stop);
}

void EngineScheduler::StopRequest(const CoreRequest& core_request) {
  LiveRequest& r = *Live(core_request.id);
  std::erase(models_[r.model].batch, &r);
  r.sequence.reset();
}

void EngineScheduler::RequestEnded(const CoreRequest& core_request, const absl::Status& status) {
  auto it = requests_.find(core_request.id);
  std::unique_ptr<LiveRequest> owned = std::move(it->second);
  requests_.erase(it);
  std::erase(models_[owned->model].batch, owned.get());
  Finish(std::move(owned), status);
}

void EngineScheduler::EndEarly(LiveRequest& r, absl::Status why) {
  if (r.end_early.ok()) r.end_early = std::move(why);
  if (r.in_step) {
    StopChain();
    r.cancel_after_step = true;  // FinishStep cancels it: the compute worker owns it until then
    return;
  }
  (void)core_->Cancel(r.id, Now(), r.end_early);  // live, so known to the core
}

void EngineScheduler::Cancel(RequestId id) {
  if (LiveRequest* r = Live(id)) EndEarly(*r, absl::CancelledError("cancelled"));
}

void EngineScheduler::StartLoad(ModelHandle model) { StartLoadFrom(model, LoadTier::kDisk); }

void EngineScheduler::StartLoadFrom(ModelHandle model, LoadTier tier) { PostLoad(model, tier, false); }

void EngineScheduler::PostLoad(ModelHandle model, LoadTier tier, bool after_compaction) {
  ModelEntry& m = models_[model];
  auto job = std::make_shared<LoadJob>();
  job->model = model;
  job->after_compaction = after_compaction;
  // A model whose host copy could not be made is read from its files, and counted so.
  if (tier == LoadTier::kHostCache && m.host_copy != nullptr) {
    job->tier = LoadTier::kHostCache;
    job->copy = m.host_copy;
  }
  if (shutting_down_) job->stop.request_stop();  // the core asked before it heard of the shutdown
  load_ = job;
  ++loads_posted_;
  ModelInstanceOptions load;
  load.owner = m.options.id;
  load.cancel = job->stop.get_token();
  load.files = context_.hooks->files;
  load.cpu.threads = context_.options->compute_threads;
  context_.load_worker->Post([this, job, path = m.files->path, load = std::move(load)]() mutable {
    if (context_.hooks->before_load) context_.hooks->before_load(load.owner);
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::unique_ptr<ModelInstance>> loaded =
        job->copy != nullptr ? job->copy->Load(*context_.pool, std::move(load))
                             : LoadModelInstance(path, *context_.pool, std::move(load));
    const Seconds seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard<std::mutex> lock(job->mu);
      job->result = std::move(loaded);
      job->seconds = seconds;
      job->done = true;
    }
    job->done_cv.notify_all();
    PostTask([this, job] { FinishLoad(*job); });
  });
}

bool EngineScheduler::CancelLoad(ModelHandle model) {
  if (compact_then_load_ && compact_then_load_->model == model) {
    compact_then_load_.reset();  // the refused load holds nothing; the pool stays as it is
    return true;
  }
  if (load_ == nullptr || load_->model != model) return false;
  const std::shared_ptr<LoadJob> job = std::exchange(load_, nullptr);
  job->stop.request_stop();
  // The core counts the load's memory free when this returns, so wait until the load worker has
  // stopped: at most one chunk of the copy (the loader checks between chunks of 64 MiB at most).
  absl::StatusOr<std::unique_ptr<ModelInstance>> stopped = absl::UnknownError("not loaded");
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->done_cv.wait(lock, [&] { return job->done; });
    // A load that ended before it saw the stop frees its weights as `stopped` goes out of scope;
    // a stopped one has freed them already.
    stopped = std::move(job->result);
  }
  job->cancelled = true;
  return true;
}

void EngineScheduler::FinishLoad(LoadJob& job) {
  --loads_posted_;
  if (job.cancelled) return;  // CancelLoad took its result; the core knows
  load_.reset();
  const ModelHandle model = job.model;
  absl::StatusOr<std::unique_ptr<ModelInstance>> loaded = absl::UnknownError("not loaded");
  Seconds seconds = 0;
  {
    std::lock_guard<std::mutex> lock(job.mu);
    loaded = std::move(job.result);
    seconds = job.seconds;
  }
  ModelEntry& m = models_[model];
  const Seconds now = Now();
  if (context_.hooks->after_load) context_.hooks->after_load(m.options.id, loaded.status());
  if (!loaded.ok() && absl::IsResourceExhausted(loaded.status()) && !job.after_compaction && !shutting_down_) {
    const absl::StatusOr<ModelRecord> record = core_->registry().Get(model);
    if (record.ok() && context_.pool->CanFitAfterCompaction(record->spec.weight_bytes, MemoryPool::kDefaultAlignment)) {
      compact_then_load_ = CompactionRetry{model, job.tier};
      StopChain();
      CompactThenLoadIfIdle();
      return;
    }
  }
  if (!loaded.ok()) {
    FailLoad(model, loaded.status());
    return;
  }
  m.instance = *std::move(loaded);
  if (context_.hooks->on_loaded) context_.hooks->on_loaded(m.options.id, job.tier, *m.instance);
  TierLoads& tier = job.tier == LoadTier::kHostCache ? m.metrics.from_host_cache : m.metrics.from_disk;
  ++tier.loads;
  tier.bytes += m.instance->weight_bytes();
  tier.seconds += seconds;
  for (auto& [id, r] : requests_) {
    if (r->model == model && !r->admitted && r->waiting_for_load) r->load_done_at = now;
  }
  // The measured bytes replace the planned ones; a model that does not fit after all is undone.
  (void)core_->OnLoadFinished(model, now, seconds, m.instance->weight_bytes());
  // The weights moved into the pool: the core took the model out of the host cache with the load
  // (not when it undid the load), and its copy goes with it.
  if (!core_->host_cache().Contains(model)) {
    m.host_copy.reset();
    m.host_copy_failed = false;
  }
  TryRemove(model);
}

void EngineScheduler::FailLoad(ModelHandle model, const absl::Status& why) {
  ModelEntry& m = models_[model];
  ++m.metrics.load_failures;
  // Its waiting requests end with this status (RequestEnded); a host copy stays cached.
  (void)core_->OnLoadFailed(
      model, absl::Status(why.code(), absl::StrCat("loading model '", m.options.id, "': ", why.message())), Now());
  TryRemove(model);
}

void EngineScheduler::CompactThenLoadIfIdle() {
  if (!compact_then_load_ || computing_) return;
  const CompactionRetry retry = *std::exchange(compact_then_load_, std::nullopt);
  // No step runs and no load: nothing reads the pool's addresses while Compact moves the bytes.
  // KV caches re-read their address before each step (KvCache::Refresh); weights are re-pointed.
  absl::Status compacted = context_.pool->Compact([](const Relocation&) {});
  for (ModelEntry& m : models_) {
    if (compacted.ok() && m.instance != nullptr) compacted = m.instance->Rebind();
  }
  if (!compacted.ok()) {
    FailLoad(retry.model, absl::InternalError(absl::StrCat("compacting the pool failed: ", compacted.message())));
    return;
  }
  ++compactions_;
  PostLoad(retry.model, retry.tier, true);
}

void EngineScheduler::Unload(ModelHandle model) {
  ModelEntry& m = models_[model];
  m.instance.reset();
  ++m.metrics.evictions;
  if (context_.hooks->on_unload) {
    const absl::StatusOr<ModelRecord> record = core_->registry().Get(model);
    context_.hooks->on_unload(m.options.id, static_cast<std::size_t>(record->in_flight), record->pinned);
  }
}

void EngineScheduler::EvictToHostCache(ModelHandle model) {
  ModelEntry& m = models_[model];
  // On this thread, before the pool allocation goes: the core counts the pool's bytes free when
  // this returns. A memcpy from the host arena, a device-to-host copy into pinned memory on CUDA.
  absl::StatusOr<std::unique_ptr<HostModelCopy>> copy = HostModelCopy::From(*m.instance, host_allocator_);
  if (copy.ok()) {
    m.host_copy = *std::move(copy);
  } else {
    m.host_copy_failed = true;
    context_.warn(absl::StrCat("model '", m.options.id, "' could not be kept in the host cache (its reload reads the files): ",
                               copy.status().ToString()));
  }
  Unload(model);
}

void EngineScheduler::DropFromHostCache(ModelHandle model) {
  ModelEntry& m = models_[model];
  m.host_copy.reset();
  m.host_copy_failed = false;
}

absl::Status EngineScheduler::CheckInvariants() const {
  if (absl::Status core = core_->CheckInvariants(); !core.ok()) return core;
  const HostCache& cache = core_->host_cache();
  std::uint64_t held = 0;
  std::uint64_t not_copied = 0;
  for (ModelHandle h = 0; h < models_.size(); ++h) {
    const ModelEntry& m = models_[h];
    if (m.host_copy != nullptr) {
      held += m.host_copy->bytes();
      if (m.host_copy->bytes() != cache.bytes(h)) {
        return absl::InternalError(absl::StrCat("model '", m.options.id, "': ", m.host_copy->bytes(),
                                                " host bytes held, the core counts ", cache.bytes(h)));
      }
    }
    if (m.host_copy_failed) not_copied += cache.bytes(h);
  }
  if (held + not_copied != cache.used_bytes()) {
    return absl::InternalError(absl::StrCat(held, " host-cache bytes held (and ", not_copied,
                                            " whose copy failed), the core counts ", cache.used_bytes()));
  }
  if (held > cache.budget_bytes()) {
    return absl::InternalError(absl::StrCat(held, " host-cache bytes held, over the budget of ", cache.budget_bytes()));
  }
  return absl::OkStatus();
}

Seconds EngineScheduler::DrainSeconds(ModelHandle model) const {
  const ModelEntry& m = models_[model];
  std::int64_t remaining = 0;
  for (const LiveRequest* r : m.batch) {
    remaining = std::max<std::int64_t>(remaining, r->max_tokens - static_cast<std::int64_t>(r->tokens_stepped));
  }
  return static_cast<Seconds>(remaining) * m.last_step_seconds;
}

void EngineScheduler::MaybeStep() {
  // While a compaction waits, the device stays idle so that it can run.
  if (computing_ || compact_then_load_) return;
  // The core chooses whose batch steps next. A batch with nothing to step (its requests' sequences
  // failed to start and are about to end) gives its turn back; each model is asked at most once.
  for (std::size_t tries = 0; tries <= models_.size(); ++tries) {
    const std::optional<ModelHandle> model = core_->PickModelToStep();
    if (!model) return;
    ModelEntry& m = models_[*model];
    auto job = std::make_unique<StepJob>();
    job->model = *model;
    for (LiveRequest* r : m.batch) {
      if (r->sequence != nullptr && !r->sequence->finished() && !r->stopped_by_string) job->requests.push_back(r);
    }
    if (job->requests.empty()) {
      (void)core_->OnStepFinished(*model, {}, Now());
      continue;
    }
    job->backend = &m.instance->backend();
    for (LiveRequest* r : job->requests) r->in_step = true;
    job->may_continue.store(!core_->ModelsWaitingForDevice(), std::memory_order_relaxed);
    computing_ = true;
    StepJob* raw = job.release();
    stepping_ = raw;
    context_.compute_worker->Post([this, raw] {
      RunChain(*raw);
      PostTask([this, raw] { FinishStep(std::unique_ptr<StepJob>(raw)); });
    });
    return;
  }
}

void EngineScheduler::RunChain(StepJob& job) {
  // A cancel, a deadline or a host's refusal is seen here too, not only once the scheduler thread has run (its
  // task stops the chain as well): at most one step more, as without chaining.
  for (;;) {
    RunStep(job);
    if (!job.status.ok() || !job.may_continue.load(std::memory_order_acquire)) return;
    const Seconds now = Now();
    for (const LiveRequest* r : job.requests) {
      if (r->stopped_by_string || r->sequence->finished() || !r->refused_by_host.ok() || r->cancelled->load() ||
          r->deadline <= now) {
        return;
      }
    }
  }
}

void EngineScheduler::RunStep(StepJob& job) {
  if (context_.hooks->before_step) {
    std::vector<RequestId> batch, prefill;
    for (const LiveRequest* r : job.requests) {
      batch.push_back(r->id);
      if (r->sequence->output().empty()) prefill.push_back(r->id);
    }
    context_.hooks->before_step(batch, prefill);
  }
  std::vector<Sequence*> sequences;
  sequences.reserve(job.requests.size());
  for (LiveRequest* r : job.requests) sequences.push_back(r->sequence.get());
  const auto start = std::chrono::steady_clock::now();
  job.status = StepBatch(*job.backend, sequences);
  job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!job.status.ok()) return;
  for (LiveRequest* r : job.requests) {
    const std::vector<std::int32_t>& out = r->sequence->output();
    TokenPiece piece{r->id, -1, {}};
    if (out.size() > r->tokens_streamed) {
      piece.token = out.back();
      r->tokens_streamed = out.size();
      if (r->first_token_at < 0) r->first_token_at = Now();
      absl::StatusOr<std::string> text = r->output->Push(piece.token, &r->stopped_by_string);
      if (!text.ok()) {
        job.status = text.status();
        continue;
      }
      piece.text = *std::move(text);
    }
    // At the end, what the stream held back (an unfinished character, a possible stop string's
    // beginning) goes with the last piece; an EOS brings no token of its own (token -1).
    if (r->sequence->finished() && !r->stopped_by_string) piece.text += r->output->Finish();
    if (r->callbacks.on_token && !r->cancelled->load() && (piece.token >= 0 || !piece.text.empty())) {
      absl::Status taken = r->callbacks.on_token(piece);
      if (!taken.ok()) r->refused_by_host = std::move(taken);
    }
  }
}

void EngineScheduler::FinishStep(std::unique_ptr<StepJob> job) {
  computing_ = false;
  stepping_ = nullptr;
  models_[job->model].last_step_seconds = job->seconds;
  const Seconds now = Now();
  std::vector<FinishedRequest> finished;
  std::vector<LiveRequest*> ending;
  for (LiveRequest* r : job->requests) {
    r->in_step = false;
    r->tokens_stepped = r->tokens_streamed;
    if (!job->status.ok() && r->end_early.ok()) r->end_early = job->status;
    if (!r->refused_by_host.ok() && r->end_early.ok()) r->end_early = r->refused_by_host;
    if (r->cancelled->load() && r->end_early.ok()) r->end_early = absl::CancelledError("cancelled");
    if (r->deadline <= now && r->end_early.ok()) r->end_early = absl::DeadlineExceededError("the request's deadline passed");
    if (!r->end_early.ok()) {
      ending.push_back(r);
    } else if (r->stopped_by_string || r->sequence->finished()) {
      finished.push_back(FinishedRequest{r->id, static_cast<std::uint32_t>(r->tokens_stepped)});
    }
  }
  (void)core_->OnStepFinished(job->model, finished, now);  // RequestEnded(OK) for each finished
  for (LiveRequest* r : ending) (void)core_->Cancel(r->id, now, r->end_early);
  TryRemove(job->model);
  CompactThenLoadIfIdle();
}

void EngineScheduler::Shutdown() {
  shutting_down_ = true;
  if (load_ != nullptr) load_->stop.request_stop();
  if (compact_then_load_) {  // the load waiting for a compaction ends as a stopped load would
    FailLoad(std::exchange(compact_then_load_, std::nullopt)->model, absl::CancelledError("the engine is shutting down"));
  }
  std::vector<LiveRequest*> pending;
  for (auto& [id, r] : requests_) pending.push_back(r.get());
  for (LiveRequest* r : pending) {
    r->cancelled->store(true);
    EndEarly(*r, absl::CancelledError("the engine is shutting down"));
  }
}

template <typename Control>
absl::Status EngineScheduler::OnModel(const std::string& id, Control control) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  return control(*model, models_[*model]);
}

absl::Status EngineScheduler::Pin(const std::string& id, bool pinned) {
  return OnModel(id, [&](ModelHandle model, ModelEntry& m) {
    absl::Status st = core_->SetPinned(model, pinned, Now());
    if (st.ok()) m.options.pin = pinned;
    return st;
  });
}

absl::Status EngineScheduler::SetKeepAlive(const std::string& id, double seconds) {
  return OnModel(id, [&](ModelHandle model, ModelEntry& m) {
    absl::Status st = core_->SetKeepAlive(model, KeepAliveOverride(seconds));
    if (st.ok()) m.options.keep_alive_seconds = seconds;
    return st;
  });
}

absl::Status EngineScheduler::SetPriority(const std::string& id, int priority) {
  return OnModel(id, [&](ModelHandle model, ModelEntry& m) {
    absl::Status st = core_->SetPriority(model, priority, Now());
    if (st.ok()) m.options.priority = priority;
    return st;
  });
}

absl::Status EngineScheduler::Preload(const std::string& id) {
  return OnModel(id, [&](ModelHandle model, ModelEntry&) { return core_->Preload(model, Now()); });
}

absl::Status EngineScheduler::Unload(const std::string& id) {
  return OnModel(id, [&](ModelHandle model, ModelEntry&) { return core_->Unload(model, Now()); });
}

TaskThread::Clock::time_point EngineScheduler::NextWake() const {
  Seconds next = core_->NextTimer();
  if (!deadlines_.empty()) next = std::min(next, deadlines_.top().first);
  if (next == kNever) return TaskThread::Clock::time_point::max();
  // A keep-alive or deadline may lie centuries ahead (any double a host passes): waking after a
  // day at most keeps the conversion to the clock's integer nanoseconds in range (found by
  // fuzz_capi: a keep-alive of 2.7e163 s), and a wake with nothing due only reads the timers again.
  constexpr Seconds kLongestSleep = 24 * 3600.0;
  const Seconds until = next - Now();
  const Seconds in = std::isnan(until) ? kLongestSleep : std::clamp(until, 0.0, kLongestSleep);
  return TaskThread::Clock::now() +
         std::chrono::duration_cast<TaskThread::Clock::duration>(std::chrono::duration<double>(in));
}

void EngineScheduler::OnWake() {
  StopChain();  // a deadline or a keep-alive may change what the device should step next
  const Seconds now = Now();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const RequestId id = deadlines_.top().second;
    deadlines_.pop();
    if (LiveRequest* r = Live(id)) EndEarly(*r, absl::DeadlineExceededError("the request's deadline passed"));
  }
  if (core_->NextTimer() <= now) core_->OnTimer(now);
  AfterTask();
}

std::uint64_t EngineScheduler::KvAllocatedBytes(const ModelEntry& m) {
  // The backend's own count of its live caches (an atomic: the compute worker may be stepping).
  return m.instance == nullptr ? 0 : m.instance->kv_bytes();
}

MetricsSnapshot EngineScheduler::Metrics() const {
  MetricsSnapshot s;
  s.uptime_seconds = Now();
  s.memory_budget_bytes = core_->registry().capacity_bytes();
  s.memory_used_bytes = core_->registry().used_bytes();
  s.host_cache_budget_bytes = core_->host_cache().budget_bytes();
  const CoreCounters& counters = core_->counters();
  s.prefetches = counters.prefetches;
  s.prefetches_used = counters.prefetches_used;
  s.prefetches_cancelled = counters.prefetches_cancelled;
  s.pool_compactions = compactions_;
  for (ModelHandle h = 0; h < models_.size(); ++h) {
    const ModelEntry& m = models_[h];
    if (m.removed || m.files == nullptr) continue;
    const absl::StatusOr<ModelRecord> record = core_->registry().Get(h);
    ModelMetrics metrics = m.metrics;
    metrics.resident_bytes = record->state == ModelState::kAbsent ? 0 : record->spec.weight_bytes;
    metrics.kv_reserved_bytes = record->kv_bytes;
    metrics.kv_allocated_bytes = KvAllocatedBytes(m);
    metrics.queued = static_cast<std::uint64_t>(record->queued);
    metrics.in_flight = static_cast<std::uint64_t>(record->in_flight);
    metrics.loads = m.metrics.from_disk.loads + m.metrics.from_host_cache.loads;
    metrics.bytes_loaded = m.metrics.from_disk.bytes + m.metrics.from_host_cache.bytes;
    metrics.load_seconds = m.metrics.from_disk.seconds + m.metrics.from_host_cache.seconds;
    metrics.host_cache_bytes = m.host_copy != nullptr ? m.host_copy->bytes() : 0;
    s.host_cache_used_bytes += metrics.host_cache_bytes;
    s.models.push_back(std::move(metrics));
  }
  return s;
}

std::vector<ResidencyEntry> EngineScheduler::ListModels() const {
  std::vector<ResidencyEntry> entries;
  const Seconds now = Now();
  for (ModelHandle h = 0; h < models_.size(); ++h) {
    const ModelEntry& m = models_[h];
    if (m.removed || m.files == nullptr) continue;
    const absl::StatusOr<ModelRecord> record = core_->registry().Get(h);
    ResidencyEntry e;
    e.model = m.options.id;
    e.state = ResidencyOf(record->state);
    // Out of the pool with a host copy to reload from (a copy that could not be made leaves none:
    // that reload reads the files, and the model is absent).
    if (e.state == Residency::kAbsent && m.host_copy != nullptr) e.state = Residency::kHostCache;
    e.weight_bytes = record->spec.weight_bytes;
    e.kv_reserved_bytes = record->kv_bytes;
    e.kv_allocated_bytes = KvAllocatedBytes(m);
    e.last_use_seconds_ago = m.metrics.from_disk.loads + m.metrics.from_host_cache.loads == 0 ? -1 : now - record->last_use;
    e.in_flight = static_cast<std::uint64_t>(record->in_flight);
    e.queued = static_cast<std::uint64_t>(record->queued);
    e.pinned = record->pinned;
    e.priority = record->priority;
    e.keep_alive_seconds = record->keep_alive.value_or(-1);
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace cace
