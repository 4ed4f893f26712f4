// The Engine: what a host embeds to serve several models from one memory budget. Requests in,
// tokens out; the eviction policy decides which models stay resident.
//
//   auto engine = cace::Engine::Create({.memory_budget_bytes = 8ull << 30, .policy = "cace"});
//   (*engine)->AddModel("/models/qwen2.5-coder-1.5b", {.id = "coder"});
//   (*engine)->Submit({.model = "coder", .prompt = "def fib(n):", .max_tokens = 64},
//                     {.on_token = [](const cace::TokenPiece& p) { std::cout << p.text; return absl::OkStatus(); },
//                      .on_done = [](const cace::RequestResult& r) { ... }});
//
// Errors. Methods return absl::Status (absl::StatusOr): the canonical codes are stable small
// integers (OK 0, CANCELLED 1, INVALID_ARGUMENT 3, DEADLINE_EXCEEDED 4, NOT_FOUND 5,
// ALREADY_EXISTS 6, FAILED_PRECONDITION 9, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14, ...) that the C ABI
// passes through unchanged with the message, so one error vocabulary serves C++, C and HTTP. A
// failed call changes nothing.
//
// Threads. Every method may be called from any host thread at once. Inside, one scheduler thread
// owns all serving state (residency, queues, metrics); host calls post to it. Loads run on one load
// worker, forward passes on one compute worker per device, the adaptive policy's shadow replays on
// a policy worker, so a model loads while resident ones keep serving. Callbacks run on those
// threads, never on the caller's: on_token on the compute worker, on_done on the scheduler thread.
// For one request they never overlap, on_token calls come in order and on_done comes exactly once,
// last. A callback must return quickly (the tokens of a whole batch, or every other event, wait for
// it), must not throw, and must not destroy the Engine or call WaitIdle; it may call every other
// method (Submit, Cancel, the controls and queries).
#ifndef CACE_ENGINE_H_
#define CACE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/clock.h"
#include "cace/context_scorer.h"
#include "cace/engine_metrics.h"
#include "cace/eviction_policy.h"
#include "cace/request.h"

namespace cace {

enum class BackendKind : std::uint8_t {
  kCpu,   // the CPU backend (always built)
  kCuda,  // the CUDA backend: FailedPrecondition from Create in a build without CUDA, Unavailable
          // without a device
};

struct EngineOptions {
  BackendKind backend = BackendKind::kCpu;
  // The memory that weights and KV caches of resident models share (host memory for kCpu, device
  // memory for kCuda). Required: > 0.
  std::uint64_t memory_budget_bytes = 0;
  // The serving policy by name: "cace" (default), "cace-adaptive", "cace-paper", "lru", "ollama",
  // "lfu", "gdsf" and the ablations of the replay ("cace-no-load", ...); "oracle" is refused (it
  // needs the future).
  std::string policy = "cace";
  // CACE's weights for "cace" and "cace-adaptive" (its starting point); unset: the defaults.
  std::optional<CaceWeights> cace_weights;
  // A policy of the host's own (the C ABI's cace_policy_callbacks): when set, it makes the
  // engine's EvictionPolicy and `policy` / `cace_weights` are not used; loads go first come,
  // first served.
  std::function<std::unique_ptr<EvictionPolicy>()> custom_policy;
  // Requests accepted and not yet ended, at most; Submit beyond it fails with ResourceExhausted.
  std::int64_t max_pending_requests = 1024;
  int max_batch = 32;          // sequences of one model decoded together
  int compute_threads = 0;     // CPU backend threads per forward pass; 0: one per hardware thread
  // Keep-alive of a model added without one: seconds idle before it is unloaded unasked; negative:
  // kept until its memory is needed.
  double default_keep_alive_seconds = -1;
  // The host-memory cache of evicted weights, a tier between the memory above and the disk: an
  // evicted model whose weights fit it stays there (plain host memory for kCpu, pinned host
  // memory for kCuda), and its reload copies from memory instead of reading its files; the policy
  // chooses what leaves it. Bytes of weights held at most; 0 (the default): off.
  std::uint64_t host_cache_bytes = 0;
  // Loads a model the policy evicted back into free memory while the load path is idle; a real
  // request's load cancels it. Off by default.
  bool prefetch = false;
  // What the engine learned (load times per tier, the policy's usage state) is read from this
  // file at Create and written to it atomically at destruction and by SaveState. A damaged or
  // foreign file is a warning (on_warning) and a fresh start. Empty (the default): none.
  std::string state_file;
  // Where warnings go: a state file refused at Create or not written at destruction, a host copy
  // that could not be made. Called on the thread that found it; null: standard error.
  std::function<void(const std::string& warning)> on_warning;
  // The time the engine reads: deadlines, keep-alives, timings, the policy's clock. Null: a
  // SteadyClock started with the engine. A ManualClock lets a test move it: the scheduler sleeps
  // for the clock's time left as it last read it, so after moving the clock, the next call that
  // reaches the scheduler thread (any method but WaitIdle) makes it read the clock again, and what
  // came due (a deadline, a keep-alive) is done before that call's own work; a query (Metrics,
  // ListModels) therefore returns after it. Measured durations (loads, steps) stay real.
  std::shared_ptr<const Clock> clock;
};

struct ModelOptions {
  std::string id;  // what requests name; required, unique
  bool pin = false;  // never evicted once loaded (until unpinned); Preload loads it before any request
  double keep_alive_seconds = -1;  // negative: EngineOptions::default_keep_alive_seconds
  // Among resident models with work, higher priorities get the device first; among waiting ones,
  // they are loaded first. Default 0.
  int priority = 0;
};

class EngineImpl;

class Engine {
 public:
  // InvalidArgument for a zero budget or an unknown policy; FailedPrecondition / Unavailable for
  // a backend this build or machine lacks; ResourceExhausted when the memory cannot be reserved.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);
  // Ends every request still pending with Cancelled (each on_done runs), then stops the threads.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // A model from `path`: a folder with config.json, model.safetensors and tokenizer.json, or one
  // GGUF file. Reads and checks the headers and the tokenizer now, loads the weights when a
  // request (or Preload, or pin) needs them. InvalidArgument / NotFound for a bad file,
  // AlreadyExists for a taken id, OutOfRange for a model larger than the budget.
  absl::Status AddModel(const std::string& path, const ModelOptions& options);
  // Ends its pending requests with NotFound, frees its memory (once its batch step ends) and
  // forgets it. NotFound for an unknown id.
  absl::Status RemoveModel(const std::string& id);

  // Checks the request (the model exists, a non-empty prompt within the context, max_tokens > 0,
  // valid sampling, the queue bound) and queues it. What cannot be known now (no room because
  // every resident model is pinned, a failed load) comes to on_done. Errors: NotFound,
  // InvalidArgument, OutOfRange (prompt + max_tokens beyond the context or the memory),
  // ResourceExhausted (the queue bound).
  absl::StatusOr<RequestId> Submit(Request request, RequestCallbacks callbacks = {});
  // Ends the request with Cancelled wherever it is (queued, waiting for a load, prefilling,
  // decoding); its on_done follows on an engine thread. False when it had already ended (or never
  // existed).
  bool Cancel(RequestId id);

  // Controls (NotFound for an unknown id).
  absl::Status Pin(const std::string& id, bool pinned);
  absl::Status SetKeepAlive(const std::string& id, double seconds);  // negative: until needed
  absl::Status SetPriority(const std::string& id, int priority);
  // Asks for the model to be loaded with no request waiting (it joins the models waiting for the
  // load path, first come first served by the time asked; victims as for a request). Returns at
  // once; a model loading or resident is left as it is.
  absl::Status Preload(const std::string& id);
  // Unloads the model: an idle one now, a busy one once its running requests end (it takes no
  // new ones; queued ones wait for its reload). FailedPrecondition for a pinned or loading model.
  absl::Status Unload(const std::string& id);

  // Blocks until no request is pending (for hosts that shut down gracefully, and tests).
  void WaitIdle();

  // Writes EngineOptions::state_file now (atomically: a crash leaves the old file or the new
  // one). FailedPrecondition when no state file was given; the write's error otherwise.
  absl::Status SaveState();

  MetricsSnapshot Metrics() const;
  std::string PrometheusMetrics() const;  // PrometheusText(Metrics())
  std::vector<ResidencyEntry> ListModels() const;

 private:
  explicit Engine(std::unique_ptr<EngineImpl> impl);
  friend class EngineImpl;
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace cace

#endif  // CACE_ENGINE_H_
