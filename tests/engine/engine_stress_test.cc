// Many host threads, many models, a memory that holds two of them: every request ends exactly once
// with its tokens or a clear error, the core's invariants hold after every scheduler task, no
// model is unloaded while serving and no pinned model is dropped. Then the controls: all-pinned
// memory, Preload, Unload, RemoveModel.
#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "lib/runtime/model_instance.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Recorder;
using testing::TinyModelDir;

// Budget for `models` models' weights plus KV room for 8 requests of 64 tokens (half a tiny model).
std::uint64_t BudgetFor(const std::string& dir, double models) {
  auto footprint = PlanModelInstance(dir, MemoryKind::kHost);
  REQUIRE(footprint.ok());
  return static_cast<std::uint64_t>(models * static_cast<double>(footprint->weight_bytes)) +
         8 * 64 * footprint->kv_bytes_per_token;
}

// What the hooks saw, checked at the end.
struct Watch {
  std::mutex mu;
  std::vector<std::string> broken;  // invariant failures and bad unloads
  std::atomic<int> unloads{0};
  EngineHooks Hooks(const std::string& pinned) {
    EngineHooks hooks;
    hooks.on_invariants = [this](const absl::Status& st) {
      if (st.ok()) return;
      std::lock_guard<std::mutex> lock(mu);
      broken.push_back(std::string(st.message()));
    };
    hooks.on_unload = [this, pinned](const std::string& model, std::size_t in_flight, bool is_pinned) {
      ++unloads;
      if (in_flight == 0 && !is_pinned && model != pinned) return;
      std::lock_guard<std::mutex> lock(mu);
      broken.push_back("unloaded " + model + " with " + std::to_string(in_flight) + " in flight" +
                       (is_pinned ? ", pinned" : ""));
    };
    return hooks;
  }
};

TEST_CASE("8 threads, 2,000 mixed requests, 6 models, memory for 2: none lost", "[engine][stress]") {
  constexpr int kModels = 6, kThreads = 8, kPerThread = 250;
  std::vector<std::string> dirs;
  for (int i = 0; i < kModels; ++i) dirs.push_back(TinyModelDir("fleet", i));
  Recorder rec;
  Watch watch;
  auto made = CreateEngineForTest(
      {.memory_budget_bytes = BudgetFor(dirs[0], 2.3), .policy = "cace", .max_pending_requests = 4096,
       .max_batch = 8, .compute_threads = 1},
      watch.Hooks("m0"));
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  for (int i = 0; i < kModels; ++i) {
    REQUIRE(engine->AddModel(dirs[i], {.id = "m" + std::to_string(i), .pin = i == 0}).ok());
  }

  std::mutex ids_mu;
  std::vector<RequestId> ids;
  std::atomic<int> refused{0};
  std::vector<std::thread> hosts;
  for (int t = 0; t < kThreads; ++t) {
    hosts.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t) + 1);
      for (int i = 0; i < kPerThread; ++i) {
        Request r;
        // m0 (pinned) and m1 are popular; the others come and go.
        const int pick = static_cast<int>(rng() % 10);
        r.model = "m" + std::to_string(pick < 3 ? 0 : pick < 5 ? 1 : 2 + pick % 4);
        switch (rng() % 4) {
          case 0:
            r.fill_in_middle = true;
            r.fim_prefix = "def f(x):\n    return ";
            r.fim_suffix = "\n";
            r.max_tokens = 4;
            break;
          case 1:
            r.prompt = "explain this code: for i in range(" + std::to_string(i) + ")";
            r.kind = TaskKind::kChat;
            r.max_tokens = 8;
            r.sampling = {.temperature = 0.8f, .top_p = 0.9f, .top_k = 20, .seed = static_cast<std::uint64_t>(i)};
            break;
          case 2:
            r.prompt_tokens = {1, 2, 3, static_cast<std::int32_t>(40 + i % 50)};
            r.max_tokens = 6;
            r.stop = {"e"};
            break;
          default:
            r.prompt = "x = " + std::to_string(i);
            r.max_tokens = 3;
        }
        auto id = engine->Submit(std::move(r), rec.Callbacks());
        if (!id.ok()) {
          ++refused;
          continue;
        }
        std::lock_guard<std::mutex> lock(ids_mu);
        ids.push_back(*id);
      }
    });
  }
  for (std::thread& h : hosts) h.join();
  engine->WaitIdle();

  CHECK(refused == 0);
  REQUIRE(ids.size() == kThreads * kPerThread);
  int ok = 0;
  for (RequestId id : ids) {
    const auto outcome = rec.Get(id);
    REQUIRE(outcome.results.size() == 1);  // ended, exactly once
    const RequestResult& r = outcome.results[0];
    if (r.status.ok()) {
      ++ok;
      CHECK(r.usage.completion_tokens == static_cast<std::int64_t>(outcome.tokens.size()));
      CHECK(outcome.streamed == r.text);
      CHECK(r.timings.end_to_end >= r.timings.queued);
    } else {
      CHECK_FALSE(r.status.message().empty());
    }
  }
  CHECK(ok == static_cast<int>(ids.size()));  // nothing here is refused: all fit, nothing cancelled
  std::lock_guard<std::mutex> lock(watch.mu);
  CHECK(watch.broken.empty());
  if (!watch.broken.empty()) FAIL(watch.broken.front());
  CHECK(watch.unloads > 0);  // the memory did make models take turns
  const auto listing = engine->ListModels();
  CHECK(listing[0].state == Residency::kResident);
  CHECK(listing[0].pinned);
  const MetricsSnapshot metrics = engine->Metrics();
  std::uint64_t ended = 0;
  for (const ModelMetrics& m : metrics.models) {
    for (const KindMetrics& k : m.kinds) ended += k.requests_ok + k.requests_failed;
  }
  CHECK(ended == ids.size());
}

TEST_CASE("When every resident model is pinned, a request needing room gets a clear error", "[engine]") {
  const std::string a = TinyModelDir("pinned", 0), b = TinyModelDir("pinned", 1), c = TinyModelDir("pinned", 2);
  Recorder rec;
  Watch watch;
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(a, 2.3), .compute_threads = 1}, watch.Hooks(""));
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(a, {.id = "a", .pin = true}).ok());
  REQUIRE(engine->AddModel(b, {.id = "b", .pin = true}).ok());
  REQUIRE(engine->AddModel(c, {.id = "c"}).ok());
  for (const char* m : {"a", "b"}) {
    auto id = engine->Submit({.model = m, .prompt = "warm", .max_tokens = 2}, rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(rec.Wait(*id).status.ok());
  }
  auto id = engine->Submit({.model = "c", .prompt = "hello", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(id.ok());
  const RequestResult r = rec.Wait(*id);
  CHECK(r.status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(r.status.message()).find("pin") != std::string::npos);
  const auto listing = engine->ListModels();
  CHECK(listing[0].state == Residency::kResident);
  CHECK(listing[1].state == Residency::kResident);
  CHECK(watch.unloads == 0);
  // Unpinning one lets it run.
  REQUIRE(engine->Pin("b", false).ok());
  id = engine->Submit({.model = "c", .prompt = "hello", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(id.ok());
  CHECK(rec.Wait(*id).status.ok());
  CHECK(engine->ListModels()[0].state == Residency::kResident);  // a stayed
}

TEST_CASE("Preload, Unload and RemoveModel", "[engine]") {
  const std::string dir = TinyModelDir("controls", 0);
  Recorder rec;
  std::promise<void> loaded_started, unloaded;
  std::atomic<bool> unload_seen{false};
  EngineHooks hooks;
  hooks.before_load = [&](const std::string&) {
    static std::atomic<bool> once{false};
    if (!once.exchange(true)) loaded_started.set_value();
  };
  hooks.on_unload = [&](const std::string&, std::size_t, bool) {
    if (!unload_seen.exchange(true)) unloaded.set_value();
  };
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(dir, 3), .compute_threads = 1}, hooks);
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(dir, {.id = "m"}).ok());
  CHECK(engine->ListModels()[0].state == Residency::kAbsent);
  REQUIRE(engine->Preload("m").ok());
  loaded_started.get_future().wait();  // the load started with no request of the host's
  auto id = engine->Submit({.model = "m", .prompt = "x", .max_tokens = 1}, rec.Callbacks());
  REQUIRE(id.ok());
  REQUIRE(rec.Wait(*id).status.ok());
  CHECK(engine->Metrics().models[0].loads == 1);  // the request found the preloaded model

  REQUIRE(engine->Pin("m", true).ok());
  CHECK(engine->Unload("m").code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(engine->Pin("m", false).ok());
  REQUIRE(engine->Unload("m").ok());
  unloaded.get_future().wait();
  CHECK(engine->ListModels()[0].state == Residency::kAbsent);

  CHECK(engine->Preload("nope").code() == absl::StatusCode::kNotFound);
  REQUIRE(engine->RemoveModel("m").ok());
  CHECK(engine->Submit({.model = "m", .prompt = "x"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(engine->ListModels().empty());
  CHECK(engine->RemoveModel("m").code() == absl::StatusCode::kNotFound);
  // The id is free again.
  CHECK(engine->AddModel(dir, {.id = "m"}).ok());
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("A model idle past its keep-alive is unloaded unasked; per request too", "[engine]") {
  const std::string dir = TinyModelDir("keepalive", 0);
  testing::Recorder rec;
  std::promise<std::string> unloaded;
  std::atomic<bool> once{false};
  EngineHooks hooks;
  hooks.on_unload = [&](const std::string& model, std::size_t, bool) {
    if (!once.exchange(true)) unloaded.set_value(model);
  };
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(dir, 3), .compute_threads = 1}, hooks);
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(dir, {.id = "kept"}).ok());  // no keep-alive: stays
  REQUIRE(engine->AddModel(TinyModelDir("keepalive", 1), {.id = "brief", .priority = 2}).ok());
  CHECK(engine->ListModels()[1].priority == 2);
  CHECK(engine->SetPriority("nope", 1).code() == absl::StatusCode::kNotFound);
  for (const char* m : {"kept", "brief"}) {
    // The request's keep-alive becomes its model's (as Ollama's keep_alive does).
    auto id = engine->Submit({.model = m, .prompt = "x", .max_tokens = 2,
                              .keep_alive_seconds = std::string(m) == "brief" ? 0.05 : -1},
                             rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(rec.Wait(*id).status.ok());
  }
  CHECK(unloaded.get_future().get() == "brief");  // the scheduler's timer did it
  const auto listing = engine->ListModels();
  CHECK(listing[0].state == Residency::kResident);
  CHECK(listing[1].state == Residency::kAbsent);
  CHECK(listing[1].keep_alive_seconds == 0.05);
}

}  // namespace
}  // namespace cace
