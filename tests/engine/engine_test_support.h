// Shared by the engine's tests: tiny models on disk, and a thread-safe record of what each
// request streamed and how it ended.
#ifndef CACE_TESTS_ENGINE_ENGINE_TEST_SUPPORT_H_
#define CACE_TESTS_ENGINE_ENGINE_TEST_SUPPORT_H_

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cace/engine.h"
#include "lib/loader/tiny_model_writer.h"

namespace cace::testing {

// A folder of tiny safetensors models "m0".."m<n-1>" (different seeds), written once per process.
// The folder is this process's alone (its pid and a random tag): a test that damages its files
// (a truncation mid-load) must not find another run's damaged copy under a reused pid.
inline std::string TinyModelDir(const std::string& name, int index) {
  static const std::string process_tag = std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}());
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("cace_engine_" + process_tag) /
                                    (name + std::to_string(index));
  if (!std::filesystem::exists(dir / "config.json")) {
    TinyModelSpec spec;
    spec.seed = static_cast<std::uint64_t>(index) + 1;
    if (!WriteTinySafetensorsModel(spec, dir.string()).ok()) return "";
  }
  return dir.string();
}

struct Outcome {
  std::vector<std::int32_t> tokens;
  std::string streamed;
  std::vector<RequestResult> results;  // exactly one when all is well
};

class Recorder {
 public:
  RequestCallbacks Callbacks() {
    return RequestCallbacks{
        .on_token =
            [this](const TokenPiece& p) {
              std::lock_guard<std::mutex> lock(mu_);
              Outcome& o = outcomes_[p.id];
              if (p.token >= 0) o.tokens.push_back(p.token);
              o.streamed += p.text;
              return absl::OkStatus();
            },
        .on_done =
            [this](const RequestResult& r) {
              std::lock_guard<std::mutex> lock(mu_);
              outcomes_[r.id].results.push_back(r);
              cv_.notify_all();
            },
    };
  }
  Outcome Get(RequestId id) {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_[id];
  }
  // Blocks until request `id` has ended.
  RequestResult Wait(RequestId id) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !outcomes_[id].results.empty(); });
    return outcomes_[id].results.front();
  }
  std::map<RequestId, Outcome> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return outcomes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<RequestId, Outcome> outcomes_;
};

// Holds the engine's scheduler thread, the device idle, inside a warm-up request's on_done until
// Release: what the host submits meanwhile queues behind it and reaches the scheduler as one burst
// (which starts in one batch step), on a resident model.
class SchedulerHold {
 public:
  // Submits the warm-up request to `model`; returns once its on_done holds the thread.
  SchedulerHold(Engine& engine, const std::string& model) : released_(release_.get_future().share()) {
    std::promise<void> holding;
    auto id = engine.Submit({.model = model, .prompt = "a", .max_tokens = 2},
                            {.on_done = [&holding, released = released_](const RequestResult&) {
                              holding.set_value();
                              released.wait();
                            }});
    if (!id.ok()) std::abort();
    holding.get_future().wait();
  }
  ~SchedulerHold() { Release(); }
  SchedulerHold(const SchedulerHold&) = delete;
  SchedulerHold& operator=(const SchedulerHold&) = delete;

  void Release() {
    if (!released_now_) release_.set_value();
    released_now_ = true;
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool released_now_ = false;
};

}  // namespace cace::testing

#endif  // CACE_TESTS_ENGINE_ENGINE_TEST_SUPPORT_H_
