#include "lib/engine/engine_scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cace/policies.h"
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
  if (options.cace_weights && options.policy == "cace-adaptive") {
    *policy = std::make_unique<AdaptiveCacePolicy>(
        AdaptiveCaceOptions{.initial = *options.cace_weights, .capacity_bytes = options.memory_budget_bytes});
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
      registry_(context_.options->memory_budget_bytes),
      policy_(std::move(policy)),
      load_scheduler_(std::move(load_scheduler)),
      core_(std::make_unique<ServingCore>(registry_, *policy_, *load_scheduler_, *this,
                                          CoreOptions{.max_batch = context_.options->max_batch})) {}

EngineScheduler::~EngineScheduler() = default;

void EngineScheduler::PostTask(std::function<void()> task) {
  context_.scheduler_thread->Post([this, task = std::move(task)] {
    task();
    FlushEnded();
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
  absl::StatusOr<ModelHandle> handle = registry_.Find(id);
  if (!handle.ok()) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
  return handle;
}

absl::StatusOr<ModelHandle> EngineScheduler::AddModel(const ModelOptions& options, std::shared_ptr<const ModelFiles> files) {
  ModelSpec spec{options.id, {files->path},
                 files->plan.format == ModelFormat::kGguf ? WeightFormat::kGguf : WeightFormat::kSafetensors,
                 files->weight_bytes, files->kv_bytes_per_token,
                 // Before any measurement: the plan's bytes at 1 GB/s, a cold page cache's pace.
                 static_cast<Seconds>(files->weight_bytes) / 1e9};
  absl::StatusOr<ModelHandle> handle = registry_.Register(spec);
  if (!handle.ok()) return handle.status();
  policy_->OnRegister(*handle, spec);
  core_->OnModelAdded(*handle);
  ModelEntry entry;
  entry.options = options;
  entry.files = std::move(files);
  entry.metrics.model = options.id;
  models_.push_back(std::move(entry));
  if (options.pin) {
    (void)registry_.SetPinned(*handle, true);
  }
  return *handle;
}

absl::Status EngineScheduler::RemoveModel(const std::string& id) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  return absl::UnimplementedError("RemoveModel waits for the core's model removal");
}

void EngineScheduler::Submit(std::unique_ptr<LiveRequest> request) {
  LiveRequest& r = *request;
  if (shutting_down_) {
    ++models_[r.model].queued;
    requests_.emplace(r.id, std::move(request));
    End(r, absl::CancelledError("the engine is shutting down"), EndReason::kCancelled);
    return;
  }
  const Seconds now = Now();
  r.core = CoreRequest{r.id, r.model, r.kind, now, models_[r.model].files->KvBytes(
                                                       static_cast<std::int64_t>(r.prompt.size()), r.max_tokens)};
  r.waiting_for_load = registry_.Inspect(r.model)->state != ModelState::kResident;
  if (r.deadline != kNever) deadlines_.emplace(r.deadline, r.id);
  ++models_[r.model].queued;
  requests_.emplace(r.id, std::move(request));
  core_->Submit(r.core, now);
}

void EngineScheduler::StartRequest(const CoreRequest& core_request) {
  LiveRequest& r = *requests_.at(core_request.id);
  ModelEntry& m = models_[r.model];
  r.admitted = true;
  r.admitted_at = Now();
  --m.queued;
  m.batch.push_back(&r);
  GenerationOptions generation;
  generation.max_new_tokens = r.max_tokens;
  generation.stop_tokens = m.files->stop_tokens;
  generation.sampling = SamplingOptions{r.sampling.temperature, r.sampling.top_k, r.sampling.top_p, r.sampling.seed};
  absl::StatusOr<std::unique_ptr<Sequence>> sequence =
      Sequence::Start(&m.loaded->backend(), r.prompt, generation, context_.pool);
  if (!sequence.ok()) {
    // Not inside the core's call: end it from a task of its own.
    PostTask([this, id = r.id, status = sequence.status()] {
      if (auto it = requests_.find(id); it != requests_.end()) End(*it->second, status, EndReason::kError);
    });
    return;
  }
  r.sequence = *std::move(sequence);
  r.output = std::make_unique<OutputStream>(*m.files->tokenizer, r.stop);
  MaybeStep();
}

void EngineScheduler::StartLoad(ModelHandle model) {
  ModelEntry& m = models_[model];
  m.load_started = Now();
  std::shared_ptr<const ModelFiles> files = m.files;
  const std::string owner = m.options.id;
  const LoadSettings settings{.compute_threads = context_.options->compute_threads};
  context_.load_worker->Post([this, model, files, owner, settings] {
    if (context_.hooks->before_load) context_.hooks->before_load(owner);
    const auto start = std::chrono::steady_clock::now();
    auto loaded = std::make_shared<absl::StatusOr<std::unique_ptr<LoadedWeights>>>(
        LoadWeights(*files, *context_.pool, owner, settings));
    const Seconds seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    PostTask([this, model, loaded, seconds] { FinishLoad(model, std::move(*loaded), seconds); });
  });
}

void EngineScheduler::FinishLoad(ModelHandle model, absl::StatusOr<std::unique_ptr<LoadedWeights>> loaded,
                                 Seconds seconds) {
  ModelEntry& m = models_[model];
  const Seconds now = Now();
  if (!loaded.ok()) {
    ++m.metrics.load_failures;
    const absl::Status why = absl::Status(loaded.status().code(),
                                          absl::StrCat("loading model '", m.options.id, "': ", loaded.status().message()));
    std::vector<LiveRequest*> waiting;
    for (auto& [id, r] : requests_) {
      if (r->model == model && !r->admitted) waiting.push_back(r.get());
    }
    for (LiveRequest* r : waiting) End(*r, why, EndReason::kError);
    core_->OnLoadFailed(model, now);
    return;
  }
  m.loaded = *std::move(loaded);
  ++m.metrics.loads;
  m.metrics.bytes_loaded += m.loaded->bytes();
  m.metrics.load_seconds += seconds;
  for (auto& [id, r] : requests_) {
    if (r->model == model && !r->admitted && r->waiting_for_load) r->load_done_at = now;
  }
  core_->OnLoadFinished(model, now, seconds);
}

void EngineScheduler::Unload(ModelHandle model) {
  ModelEntry& m = models_[model];
  if (context_.hooks->on_unload) context_.hooks->on_unload(m.options.id, m.batch.size(), registry_.Inspect(model)->pinned);
  m.loaded.reset();
  ++m.metrics.evictions;
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
  if (computing_ || (shutting_down_ && requests_.empty())) return;
  // Round-robin over the models with admitted requests, one step each: co-resident models share
  // the device iteration by iteration.
  const std::size_t n = models_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const ModelHandle model = static_cast<ModelHandle>((next_batch_ + i) % n);
    ModelEntry& m = models_[model];
    auto job = std::make_unique<StepJob>();
    job->model = model;
    if (m.loaded) job->backend = &m.loaded->backend();
    for (LiveRequest* r : m.batch) {
      if (r->sequence != nullptr && !r->sequence->finished() && !r->stopped_by_string) job->requests.push_back(r);
    }
    if (job->requests.empty()) continue;
    next_batch_ = static_cast<ModelHandle>((model + 1) % n);
    for (LiveRequest* r : job->requests) r->in_step = true;
    computing_ = true;
    StepJob* raw = job.release();
    context_.compute_worker->Post([this, raw] {
      RunStep(*raw);
      PostTask([this, raw] { FinishStep(std::unique_ptr<StepJob>(raw)); });
    });
    return;
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
      r->callbacks.on_token(piece);
    }
  }
}

void EngineScheduler::FinishStep(std::unique_ptr<StepJob> job) {
  computing_ = false;
  ModelEntry& m = models_[job->model];
  m.last_step_seconds = job->seconds;
  const Seconds now = Now();
  for (LiveRequest* r : job->requests) {
    r->in_step = false;
    r->tokens_stepped = r->tokens_streamed;
    if (!job->status.ok()) {
      End(*r, job->status, EndReason::kError);
    } else if (r->cancelled->load()) {
      End(*r, absl::CancelledError("cancelled"), EndReason::kCancelled);
    } else if (r->deadline <= now) {
      End(*r, absl::DeadlineExceededError("the request's deadline passed"), EndReason::kError);
    } else if (r->stopped_by_string || r->sequence->finish_reason() == FinishReason::kStopToken) {
      End(*r, absl::OkStatus(), EndReason::kStop);
    } else if (r->sequence->finish_reason() == FinishReason::kMaxTokens) {
      End(*r, absl::OkStatus(), EndReason::kLength);
    }
  }
  MaybeStep();
}

void EngineScheduler::End(LiveRequest& r, absl::Status status, EndReason reason) {
  auto it = requests_.find(r.id);
  std::unique_ptr<LiveRequest> owned = std::move(it->second);
  requests_.erase(it);
  const Seconds now = Now();
  ModelEntry& m = models_[r.model];
  RequestResult result;
  result.id = r.id;
  result.reason = reason;
  result.usage.prompt_tokens = static_cast<std::int64_t>(r.prompt.size());
  result.usage.completion_tokens = r.sequence ? static_cast<std::int64_t>(r.sequence->output().size()) : 0;
  if (r.output) result.text = r.output->text();
  result.timings.end_to_end = now - r.submitted;
  if (r.admitted) result.timings.queued = r.admitted_at - r.submitted;
  if (r.load_done_at >= 0) result.timings.waited_for_load = r.load_done_at - r.submitted;
  if (r.first_token_at >= 0) result.timings.first_token = r.first_token_at - r.submitted;
  result.status = std::move(status);

  KindMetrics& k = m.metrics.kinds[KindIndex(r.kind)];
  (result.status.ok() ? k.requests_ok : k.requests_failed) += 1;
  k.prompt_tokens += static_cast<std::uint64_t>(result.usage.prompt_tokens);
  k.completion_tokens += static_cast<std::uint64_t>(result.usage.completion_tokens);
  k.end_to_end.Observe(result.timings.end_to_end);
  if (result.timings.queued >= 0) k.queue_time.Observe(result.timings.queued);
  if (result.timings.first_token >= 0) k.ttft.Observe(result.timings.first_token);

  if (r.admitted) {
    std::erase(m.batch, &r);
    r.sequence.reset();  // its KV cache goes back to the pool
    core_->OnRequestFinished(r.core, static_cast<std::uint32_t>(result.usage.completion_tokens), now);
  } else {
    --m.queued;
    core_->Cancel(r.core, now);
  }
  ended_.emplace_back(std::move(owned), std::move(result));
}

void EngineScheduler::Cancel(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  LiveRequest& r = *it->second;
  // In a step, it ends when the step does (FinishStep reads the flag set by the host).
  if (!r.in_step) End(r, absl::CancelledError("cancelled"), EndReason::kCancelled);
}

void EngineScheduler::Shutdown() {
  shutting_down_ = true;
  std::vector<LiveRequest*> pending;
  for (auto& [id, r] : requests_) pending.push_back(r.get());
  for (LiveRequest* r : pending) {
    r->cancelled->store(true);
    if (!r->in_step) End(*r, absl::CancelledError("the engine is shutting down"), EndReason::kCancelled);
  }
}

absl::Status EngineScheduler::Pin(const std::string& id, bool pinned) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  models_[*model].options.pin = pinned;
  return registry_.SetPinned(*model, pinned);
}

absl::Status EngineScheduler::SetKeepAlive(const std::string& id, double seconds) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  models_[*model].options.keep_alive_seconds = seconds;
  return absl::OkStatus();
}

absl::Status EngineScheduler::SetPriority(const std::string& id, int priority) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  models_[*model].options.priority = priority;
  return absl::OkStatus();
}

absl::Status EngineScheduler::Preload(const std::string& id) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  return absl::UnimplementedError("Preload waits for the core's preload");
}

absl::Status EngineScheduler::Unload(const std::string& id) {
  absl::StatusOr<ModelHandle> model = Find(id);
  if (!model.ok()) return model.status();
  return absl::UnimplementedError("Unload waits for the core's unload");
}

TaskThread::Clock::time_point EngineScheduler::NextWake() const {
  Seconds next = core_->NextTimer();
  if (!deadlines_.empty()) next = std::min(next, deadlines_.top().first);
  if (next == kNever) return TaskThread::Clock::time_point::max();
  const Seconds in = std::max(0.0, next - Now());
  return TaskThread::Clock::now() + std::chrono::duration_cast<TaskThread::Clock::duration>(
                                        std::chrono::duration<double>(in));
}

void EngineScheduler::OnWake() {
  const Seconds now = Now();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const RequestId id = deadlines_.top().second;
    deadlines_.pop();
    auto it = requests_.find(id);
    if (it == requests_.end() || it->second->in_step) continue;  // ended, or ends with its step
    End(*it->second, absl::DeadlineExceededError("the request's deadline passed"), EndReason::kError);
  }
  if (core_->NextTimer() <= now) core_->OnTimer(now);
  FlushEnded();
}

MetricsSnapshot EngineScheduler::Metrics() const {
  MetricsSnapshot s;
  s.uptime_seconds = Now();
  s.memory_budget_bytes = registry_.capacity_bytes();
  s.memory_used_bytes = registry_.used_bytes();
  for (ModelHandle h = 0; h < models_.size(); ++h) {
    const ModelEntry& m = models_[h];
    ModelMetrics metrics = m.metrics;
    const ModelStatus status = *registry_.Inspect(h);
    metrics.resident_bytes = status.state == ModelState::kAbsent ? 0 : status.weight_bytes;
    metrics.kv_bytes = status.kv_bytes;
    metrics.queued = m.queued;
    metrics.in_flight = m.batch.size();
    s.models.push_back(std::move(metrics));
  }
  return s;
}

std::vector<ResidencyEntry> EngineScheduler::ListModels() const {
  std::vector<ResidencyEntry> entries;
  const Seconds now = Now();
  for (ModelHandle h = 0; h < models_.size(); ++h) {
    const ModelEntry& m = models_[h];
    const ModelStatus status = *registry_.Inspect(h);
    ResidencyEntry e;
    e.model = m.options.id;
    e.state = ResidencyOf(status.state);
    e.weight_bytes = m.loaded ? m.loaded->bytes() : status.weight_bytes;
    e.kv_bytes = status.kv_bytes;
    e.last_use_seconds_ago = m.metrics.loads == 0 ? -1 : now - status.last_use;
    e.in_flight = m.batch.size();
    e.queued = m.queued;
    e.pinned = status.pinned;
    e.priority = m.options.priority;
    e.keep_alive_seconds = m.options.keep_alive_seconds;
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace cace
