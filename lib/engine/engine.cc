// The Engine's boundary: checks what hosts send on their own threads, then hands it to the
// scheduler thread. It holds only what the host threads need without asking the scheduler: each
// model's file facts (tokenizer, sizes) for encoding and checking prompts, and the set of pending
// requests (the queue bound, Cancel, WaitIdle).
#include "cace/engine.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cace/task_context.h"
#include "lib/engine/engine_scheduler.h"
#include "lib/engine/engine_testing.h"
#include "lib/tokenizer/fim_prompt.h"

namespace cace {

class EngineImpl {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options, EngineHooks hooks);
  ~EngineImpl();

  absl::Status AddModel(const std::string& path, const ModelOptions& options);
  absl::Status RemoveModel(const std::string& id);
  absl::StatusOr<RequestId> Submit(Request request, RequestCallbacks callbacks);
  absl::Status SaveState();
  bool Cancel(RequestId id);
  void WaitIdle();

  // Runs `call` on the scheduler thread and returns its result; inline when already there (a
  // callback re-entering the engine).
  template <typename Call>
  auto OnScheduler(Call call) -> decltype(call(std::declval<EngineScheduler&>())) {
    using Result = decltype(call(std::declval<EngineScheduler&>()));
    if (scheduler_thread_->OnThisThread()) return call(*scheduler_);
    std::promise<Result> done;
    std::future<Result> result = done.get_future();
    scheduler_->PostTask([&] { done.set_value(call(*scheduler_)); });
    return result.get();
  }

 private:
  EngineImpl(EngineOptions options, EngineHooks hooks)
      : options_(std::move(options)),
        hooks_(std::move(hooks)),
        clock_(options_.clock != nullptr ? options_.clock : std::make_shared<const SteadyClock>()) {}
  absl::StatusOr<std::vector<std::int32_t>> PromptTokens(const Request& request, const ModelFiles& files) const;
  void Ending(RequestId id);
  void Ended();
  void Warn(const std::string& warning) const;

  const EngineOptions options_;
  const EngineHooks hooks_;
  const std::shared_ptr<const Clock> clock_;  // options_.clock, or a SteadyClock
  const TaskClassifier classifier_;
  std::unique_ptr<MemoryPool> pool_;

  struct CatalogueEntry {
    std::shared_ptr<const ModelFiles> files;
    ModelHandle handle = 0;
  };
  std::mutex catalogue_mu_;
  std::unordered_map<std::string, CatalogueEntry> catalogue_;  // guarded

  std::mutex state_file_mu_;  // one writer of the state file's temporary at a time

  std::mutex pending_mu_;
  std::condition_variable idle_;
  // Accepted and not yet at their on_done, with their cancel flags (the queue bound counts them).
  std::unordered_map<RequestId, std::shared_ptr<std::atomic<bool>>> pending_;  // guarded
  std::int64_t unfinished_ = 0;  // guarded: accepted, on_done not yet returned
  RequestId last_id_ = 0;                                                       // guarded

  // Stopped in ~EngineImpl's order.
  std::unique_ptr<TaskThread> load_worker_ = std::make_unique<TaskThread>();
  std::unique_ptr<TaskThread> compute_worker_ = std::make_unique<TaskThread>();
  std::unique_ptr<TaskThread> policy_worker_ = std::make_unique<TaskThread>();
  std::unique_ptr<TaskThread> scheduler_thread_ = std::make_unique<TaskThread>();
  std::unique_ptr<EngineScheduler> scheduler_;
};

absl::StatusOr<std::unique_ptr<Engine>> EngineImpl::Create(EngineOptions options, EngineHooks hooks) {
  if (options.memory_budget_bytes == 0) return absl::InvalidArgumentError("memory_budget_bytes must be > 0");
  if (options.max_pending_requests <= 0) return absl::InvalidArgumentError("max_pending_requests must be > 0");
  if (options.max_batch <= 0) return absl::InvalidArgumentError("max_batch must be > 0");
  if (options.compute_threads < 0) return absl::InvalidArgumentError("compute_threads must be >= 0");
  auto impl = std::unique_ptr<EngineImpl>(new EngineImpl(std::move(options), std::move(hooks)));
  // The arena is larger than the budget by a quarter: the budget counts the bytes held, and the
  // slack absorbs most fragmentation between KV caches and weights; a load the pieces still
  // refuse is retried after a compaction, with the device idle (EngineScheduler::
  // CompactThenLoadIfIdle). It is address space, touched only where allocations land.
  const std::uint64_t budget = impl->options_.memory_budget_bytes;
  const std::uint64_t arena = budget + budget / 4 + (4u << 20);
  // The CUDA arena answers FailedPrecondition in a build without CUDA, Unavailable without a device.
  absl::StatusOr<std::unique_ptr<MemoryPool>> pool =
      impl->options_.backend == BackendKind::kCuda ? CreateDeviceArena(0, arena) : CreateHostArena(arena);
  if (!pool.ok()) return pool.status();
  impl->pool_ = impl->hooks_.wrap_pool ? impl->hooks_.wrap_pool(*std::move(pool)) : *std::move(pool);
  EngineImpl* raw = impl.get();
  absl::StatusOr<std::unique_ptr<EngineScheduler>> scheduler = EngineScheduler::Create(SchedulerContext{
      .options = &raw->options_,
      .pool = raw->pool_.get(),
      .scheduler_thread = raw->scheduler_thread_.get(),
      .load_worker = raw->load_worker_.get(),
      .compute_worker = raw->compute_worker_.get(),
      .policy_worker = raw->policy_worker_.get(),
      .clock = raw->clock_.get(),
      .hooks = &raw->hooks_,
      .before_done = [raw](RequestId id) { raw->Ending(id); },
      .after_done = [raw] { raw->Ended(); },
      .warn = [raw](const std::string& warning) { raw->Warn(warning); },
  });
  if (!scheduler.ok()) return scheduler.status();
  impl->scheduler_ = *std::move(scheduler);
  if (!impl->options_.state_file.empty()) {
    // A damaged file must not keep the engine from serving: a warning, and a fresh start.
    std::string warning;
    impl->scheduler_->Restore(ReadStateFileOrFresh(impl->options_.state_file, warning));
    if (!warning.empty()) impl->Warn(warning);
  }
  impl->load_worker_->Start();
  impl->compute_worker_->Start();
  impl->policy_worker_->Start();
  EngineScheduler* s = impl->scheduler_.get();
  impl->scheduler_thread_->Start([s] { return s->NextWake(); }, [s] { s->OnWake(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

EngineImpl::~EngineImpl() {
  if (scheduler_ == nullptr) return;  // Create failed before anything started
  OnScheduler([](EngineScheduler& s) {
    s.Shutdown();
    return 0;
  });
  WaitIdle();
  // The Engine's own requests (Preload) and a cancelled load may still be under way.
  while (!OnScheduler([](EngineScheduler& s) { return s.Quiet(); })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!options_.state_file.empty()) {
    if (absl::Status saved = SaveState(); !saved.ok()) Warn(absl::StrCat("the state file was not written: ", saved.ToString()));
  }
  // Workers first (what they still post lands on the live scheduler thread), then the scheduler
  // thread (whose last tasks start no new work once shut down), then the state it owned.
  compute_worker_.reset();
  load_worker_.reset();
  policy_worker_.reset();
  scheduler_thread_.reset();
  scheduler_.reset();
}

void EngineImpl::Ending(RequestId id) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  pending_.erase(id);
}

void EngineImpl::Ended() {
  std::lock_guard<std::mutex> lock(pending_mu_);
  if (--unfinished_ == 0) idle_.notify_all();
}

void EngineImpl::Warn(const std::string& warning) const {
  if (options_.on_warning) {
    options_.on_warning(warning);
  } else {
    std::fprintf(stderr, "cace: warning: %s\n", warning.c_str());
  }
}

absl::Status EngineImpl::SaveState() {
  if (options_.state_file.empty()) return absl::FailedPreconditionError("the engine was created with no state_file");
  // Gathered on the scheduler thread, written on this one (the file's fsync stalls no request).
  const LearnedState state = OnScheduler([](EngineScheduler& s) { return s.Learned(); });
  std::lock_guard<std::mutex> lock(state_file_mu_);
  return WriteStateFile(options_.state_file, state);
}

void EngineImpl::WaitIdle() {
  std::unique_lock<std::mutex> lock(pending_mu_);
  idle_.wait(lock, [&] { return unfinished_ == 0; });
}

absl::Status EngineImpl::AddModel(const std::string& path, const ModelOptions& options) {
  if (options.id.empty()) return absl::InvalidArgumentError("a model needs an id");
  absl::StatusOr<std::shared_ptr<const ModelFiles>> files = ReadModelFiles(path, pool_->kind());
  if (!files.ok()) return files.status();
  if ((*files)->footprint.weight_bytes > options_.memory_budget_bytes) {
    return absl::OutOfRangeError(absl::StrCat("model '", options.id, "' needs ", (*files)->footprint.weight_bytes,
                                              " bytes, more than the budget of ", options_.memory_budget_bytes));
  }
  // The catalogue's lock is never held while waiting for the scheduler: a callback on the
  // scheduler thread may be submitting (and so taking the lock) meanwhile.
  {
    std::lock_guard<std::mutex> lock(catalogue_mu_);
    if (catalogue_.contains(options.id)) return absl::AlreadyExistsError(absl::StrCat("model '", options.id, "' exists"));
  }
  // The scheduler refuses a second model of the same id (the core's table), so a race between two
  // AddModel calls ends with one of them AlreadyExists.
  absl::StatusOr<ModelHandle> added = OnScheduler([&](EngineScheduler& s) { return s.AddModel(options, *files); });
  if (!added.ok()) return added.status();
  std::lock_guard<std::mutex> lock(catalogue_mu_);
  catalogue_.emplace(options.id, CatalogueEntry{*files, *added});
  return absl::OkStatus();
}

absl::Status EngineImpl::RemoveModel(const std::string& id) {
  {
    // Gone for new requests first; the scheduler ends those already accepted.
    std::lock_guard<std::mutex> lock(catalogue_mu_);
    if (catalogue_.erase(id) == 0) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
  }
  return OnScheduler([&](EngineScheduler& s) { return s.RemoveModel(id); });
}

absl::StatusOr<std::vector<std::int32_t>> EngineImpl::PromptTokens(const Request& request,
                                                                    const ModelFiles& files) const {
  const Tokenizer& tokenizer = *files.tokenizer;
  std::vector<std::int32_t> tokens;
  if (!request.prompt_tokens.empty()) {
    tokens = request.prompt_tokens;
  } else if (request.fill_in_middle) {
    absl::StatusOr<std::vector<TokenId>> fim =
        EncodeFimPrompt(tokenizer, request.fim_prefix, request.fim_suffix, /*add_bos=*/true);
    if (!fim.ok()) return fim.status();
    tokens.assign(fim->begin(), fim->end());
  } else {
    const std::vector<TokenId> ids = tokenizer.Encode(request.prompt, EncodeOptions{.add_special = true});
    tokens.assign(ids.begin(), ids.end());
  }
  if (tokens.empty()) return absl::InvalidArgumentError("the prompt is empty");
  for (std::int32_t t : tokens) {
    if (t < 0 || t >= files.footprint.config.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompt token ", t, " is outside the vocabulary of ", files.footprint.config.vocab_size));
    }
  }
  return tokens;
}

absl::StatusOr<RequestId> EngineImpl::Submit(Request request, RequestCallbacks callbacks) {
  CatalogueEntry entry;
  {
    std::lock_guard<std::mutex> lock(catalogue_mu_);
    auto it = catalogue_.find(request.model);
    if (it == catalogue_.end()) return absl::NotFoundError(absl::StrCat("no model '", request.model, "'"));
    entry = it->second;
  }
  const ModelFiles* files = entry.files.get();
  if (request.max_tokens <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_tokens = ", request.max_tokens, " must be > 0"));
  }
  if (request.deadline_seconds < 0) return absl::InvalidArgumentError("deadline_seconds must be >= 0");
  for (const std::string& stop : request.stop) {
    if (stop.empty()) return absl::InvalidArgumentError("a stop string is empty");
  }
  const Sampling& sampling = request.sampling;
  if (absl::Status st = ValidateSamplingOptions({sampling.temperature, sampling.top_k, sampling.top_p, sampling.seed});
      !st.ok()) {
    return st;
  }
  absl::StatusOr<std::vector<std::int32_t>> prompt = PromptTokens(request, *files);
  if (!prompt.ok()) return prompt.status();
  const auto prompt_tokens = static_cast<std::int64_t>(prompt->size());
  const std::int64_t context = files->footprint.config.max_position_embeddings;
  if (prompt_tokens + request.max_tokens - 1 > context) {
    return absl::OutOfRangeError(absl::StrCat("prompt of ", prompt_tokens, " tokens + max_tokens = ", request.max_tokens,
                                              " exceeds the model's context of ", context));
  }
  // What the core reserves for it (it checks again; here the host hears it at once).
  const std::uint64_t kv_bytes = KvReservationBytes(static_cast<std::uint32_t>(prompt_tokens),
                                                    static_cast<std::uint32_t>(request.max_tokens),
                                                    files->footprint.kv_bytes_per_token);
  if (files->footprint.weight_bytes + kv_bytes > options_.memory_budget_bytes) {
    return absl::OutOfRangeError(absl::StrCat("the request's KV cache (", kv_bytes, " bytes) and its model's weights (",
                                              files->footprint.weight_bytes, ") exceed the budget of ",
                                              options_.memory_budget_bytes));
  }
  auto live = std::make_unique<LiveRequest>();
  live->model = entry.handle;
  live->prompt = *std::move(prompt);
  live->kind = request.kind.value_or(classifier_.Classify(RequestFeatures{
      static_cast<std::uint32_t>(prompt_tokens), static_cast<std::uint32_t>(request.max_tokens),
      request.fill_in_middle || ContainsFimMarkers(request.prompt), std::nullopt}));
  live->max_tokens = request.max_tokens;
  live->sampling = request.sampling;
  live->stop = std::move(request.stop);
  live->keep_alive_seconds = request.keep_alive_seconds;
  live->callbacks = std::move(callbacks);
  live->cancelled = std::make_shared<std::atomic<bool>>(false);
  live->submitted = clock_->Now();
  if (request.deadline_seconds > 0) live->deadline = live->submitted + request.deadline_seconds;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    if (static_cast<std::int64_t>(pending_.size()) >= options_.max_pending_requests) {
      return absl::ResourceExhaustedError(absl::StrCat("the engine holds ", pending_.size(),
                                                       " pending requests, its bound (max_pending_requests)"));
    }
    live->id = ++last_id_;
    pending_.emplace(live->id, live->cancelled);
    ++unfinished_;
  }
  const RequestId id = live->id;
  scheduler_->PostTask([this, request = std::shared_ptr<LiveRequest>(std::move(live))]() mutable {
    scheduler_->Submit(std::unique_ptr<LiveRequest>(new LiveRequest(std::move(*request))));
  });
  return id;
}

bool EngineImpl::Cancel(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    it->second->store(true);
  }
  scheduler_->PostTask([this, id] { scheduler_->Cancel(id); });
  return true;
}

absl::StatusOr<std::unique_ptr<Engine>> CreateEngineForTest(EngineOptions options, EngineHooks hooks) {
  return EngineImpl::Create(std::move(options), std::move(hooks));
}

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  return EngineImpl::Create(std::move(options), EngineHooks{});
}

absl::Status Engine::AddModel(const std::string& path, const ModelOptions& options) {
  return impl_->AddModel(path, options);
}
absl::Status Engine::RemoveModel(const std::string& id) { return impl_->RemoveModel(id); }
absl::StatusOr<RequestId> Engine::Submit(Request request, RequestCallbacks callbacks) {
  return impl_->Submit(std::move(request), std::move(callbacks));
}
bool Engine::Cancel(RequestId id) { return impl_->Cancel(id); }
absl::Status Engine::SaveState() { return impl_->SaveState(); }
void Engine::WaitIdle() { impl_->WaitIdle(); }

absl::Status Engine::Pin(const std::string& id, bool pinned) {
  return impl_->OnScheduler([&](EngineScheduler& s) { return s.Pin(id, pinned); });
}
absl::Status Engine::SetKeepAlive(const std::string& id, double seconds) {
  return impl_->OnScheduler([&](EngineScheduler& s) { return s.SetKeepAlive(id, seconds); });
}
absl::Status Engine::SetPriority(const std::string& id, int priority) {
  return impl_->OnScheduler([&](EngineScheduler& s) { return s.SetPriority(id, priority); });
}
absl::Status Engine::Preload(const std::string& id) {
  return impl_->OnScheduler([&](EngineScheduler& s) { return s.Preload(id); });
}
absl::Status Engine::Unload(const std::string& id) {
  return impl_->OnScheduler([&](EngineScheduler& s) { return s.Unload(id); });
}
MetricsSnapshot Engine::Metrics() const {
  return impl_->OnScheduler([](EngineScheduler& s) { return s.Metrics(); });
}
std::string Engine::PrometheusMetrics() const { return PrometheusText(Metrics()); }
std::vector<ResidencyEntry> Engine::ListModels() const {
  return impl_->OnScheduler([](EngineScheduler& s) { return s.ListModels(); });
}

}  // namespace cace
