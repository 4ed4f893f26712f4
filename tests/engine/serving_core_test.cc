#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cace/policies.h"
#include "lib/engine/serving_core.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// Records what the core asks for; the test plays the driver.
struct RecordingBackend final : ServingBackend {
  std::vector<std::string> log;
  void StartLoad(ModelHandle m) override { log.push_back("load " + std::to_string(m)); }
  void Unload(ModelHandle m) override { log.push_back("unload " + std::to_string(m)); }
  void StartRequest(const CoreRequest& r) override {
    log.push_back("start " + std::to_string(r.id) + "@" + std::to_string(r.model));
  }
  Seconds DrainSeconds(ModelHandle) const override { return 1.0; }
  std::vector<std::string> Take() { return std::exchange(log, {}); }
};

struct Harness {
  explicit Harness(std::uint64_t capacity, std::vector<std::uint64_t> sizes,
                   std::unique_ptr<EvictionPolicy> p = std::make_unique<LruPolicy>(),
                   std::unique_ptr<LoadScheduler> s = std::make_unique<FcfsLoadScheduler>(),
                   CoreOptions options = {})
      : registry(capacity), policy(std::move(p)), scheduler(std::move(s)) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      ModelSpec spec{"m" + std::to_string(i), {}, WeightFormat::kSimulated, sizes[i], 0, 1.0 + static_cast<double>(i)};
      REQUIRE(registry.Register(spec).ok());
      policy->OnRegister(static_cast<ModelHandle>(i), spec);
    }
    core = std::make_unique<ServingCore>(registry, *policy, *scheduler, backend, options);
  }
  CoreRequest Request(std::uint64_t id, ModelHandle model, TaskKind kind = TaskKind::kCompletion,
                      std::uint64_t kv = 0, Seconds arrival = 0) {
    return CoreRequest{id, model, kind, arrival, kv};
  }
  ModelState State(ModelHandle m) { return registry.Inspect(m)->state; }

  ModelRegistry registry;
  std::unique_ptr<EvictionPolicy> policy;
  std::unique_ptr<LoadScheduler> scheduler;
  RecordingBackend backend;
  std::unique_ptr<ServingCore> core;
};

using Log = std::vector<std::string>;

TEST_CASE("a request for an absent model loads it, then starts") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});
  h.core->Submit(h.Request(0, 0), 0.0);
  CHECK(h.backend.Take() == Log{"load 0"});
  CHECK(h.State(0) == ModelState::kLoading);
  h.core->Submit(h.Request(1, 0), 0.5);  // waits for the load in progress
  h.core->Submit(h.Request(2, 1), 0.6);  // waits: one load at a time
  CHECK(h.backend.Take().empty());
  h.core->OnLoadFinished(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 0@0", "start 1@0", "load 1"});
  CHECK(h.core->counters().loads == 2);
  CHECK(h.core->counters().bytes_loaded == 4 * kGiB);
}

TEST_CASE("room for a load comes from an idle model chosen by the policy") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u}) {
    h.core->Submit(h.Request(m, m), m);
    h.core->OnLoadFinished(m, m + 0.5, 0.5);
    h.core->OnRequestFinished(h.Request(m, m), 10, m + 0.7);
  }
  h.backend.Take();
  h.core->Submit(h.Request(9, 2), 5.0);
  CHECK(h.backend.Take() == Log{"unload 0", "load 2"});  // LRU: model 0 was used first
  CHECK(h.core->counters().evictions == 1);
  CHECK(h.State(0) == ModelState::kAbsent);
}

TEST_CASE("a busy victim drains: no new requests, then unloads, then the load starts") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB});
  h.core->Submit(h.Request(0, 0), 0.0);
  h.core->OnLoadFinished(0, 1.0, 1.0);
  h.backend.Take();
  h.core->Submit(h.Request(1, 1), 2.0);  // model 0 is busy: it is chosen to drain
  CHECK(h.State(0) == ModelState::kEvicting);
  CHECK(h.core->counters().drains == 1);
  h.core->Submit(h.Request(2, 0), 2.5);  // a draining model takes nothing new
  CHECK(h.backend.Take().empty());
  h.core->OnRequestFinished(h.Request(0, 0), 10, 3.0);
  CHECK(h.backend.Take() == Log{"unload 0", "load 1"});
  CHECK(h.core->counters().drain_wait_seconds == Approx(1.0));  // chosen at 2.0, started at 3.0
  h.core->OnLoadFinished(1, 4.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 1@1"});
  // Request 2 for model 0 waits for its reload, which needs model 1 to drain in turn.
  CHECK(h.State(1) == ModelState::kEvicting);
  h.core->OnRequestFinished(h.Request(1, 1), 10, 5.0);
  CHECK(h.backend.Take() == Log{"unload 1", "load 0"});
  CHECK(h.core->counters().drain_wait_seconds == Approx(2.0));  // and 4.0 to 5.0
  h.core->OnLoadFinished(0, 6.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 2@0"});
  CHECK(h.core->waiting_requests() == 0);
}

TEST_CASE("a pinned model is never drained; its neighbour is") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u}) {
    h.core->Submit(h.Request(m, m), m);
    h.core->OnLoadFinished(m, m + 0.5, 0.5);
  }
  REQUIRE(h.registry.SetPinned(0, true).ok());
  h.backend.Take();
  h.core->Submit(h.Request(5, 2), 3.0);
  CHECK(h.State(0) == ModelState::kResident);
  CHECK(h.State(1) == ModelState::kEvicting);
}

TEST_CASE("KV cache room limits admission; a finished request makes room") {
  Harness h(4 * kGiB, {2 * kGiB});
  h.core->Submit(h.Request(0, 0, TaskKind::kChat, kGiB), 0.0);
  h.core->OnLoadFinished(0, 1.0, 1.0);
  h.core->Submit(h.Request(1, 0, TaskKind::kChat, kGiB), 1.1);
  h.core->Submit(h.Request(2, 0, TaskKind::kChat, kGiB), 1.2);  // 2 + 1 + 1 + 1 > 4
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "start 1@0"});
  CHECK(h.registry.used_bytes() == 4 * kGiB);
  h.core->OnRequestFinished(h.Request(0, 0, TaskKind::kChat, kGiB), 100, 2.0);
  CHECK(h.backend.Take() == Log{"start 2@0"});
}

TEST_CASE("the batch size bounds the requests a model serves at once") {
  Harness h(10 * kGiB, {2 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), CoreOptions{.max_batch = 2});
  for (std::uint64_t i = 0; i < 3; ++i) h.core->Submit(h.Request(i, 0), 0.0);
  h.core->OnLoadFinished(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "start 1@0"});
  h.core->OnRequestFinished(h.Request(0, 0), 5, 2.0);
  CHECK(h.backend.Take() == Log{"start 2@0"});
}

TEST_CASE("first-come-first-served loads the oldest request's model; context loads the most urgent work") {
  std::vector<WaitingModel> waiting = {
      {0, 1.0, {0, 0, 1}, 5.0, 2},  // one reasoning request on a slow model, oldest
      {1, 2.0, {3, 0, 0}, 1.0, 1},  // three completions on a fast one
  };
  CHECK(FcfsLoadScheduler().PickNext(waiting, 3.0) == 0);
  CHECK(ContextLoadScheduler().PickNext(waiting, 3.0) == 1);
  // Waiting is bounded: a model passed over by max_loads_passed loads goes first whatever it is,
  // however long the others have waited in seconds.
  CHECK(ContextLoadScheduler({.max_loads_passed = 2}).PickNext(waiting, 3.0) == 0);
  CHECK(ContextLoadScheduler({.max_loads_passed = 3}).PickNext(waiting, 1000.0) == 1);
  // Among overdue models, the oldest.
  waiting[1].loads_passed = 5;
  CHECK(ContextLoadScheduler({.max_loads_passed = 2}).PickNext(waiting, 3.0) == 0);
}

TEST_CASE("a waiting model passed over by max_loads_passed loads is loaded next") {
  // Room for one model at a time; m2's lone reasoning request (3 s load) is worth less than each
  // completion for m0 or m1, which keep arriving.
  Harness h(1 * kGiB, {1 * kGiB, 1 * kGiB, 1 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<ContextLoadScheduler>(ContextSchedulerOptions{.max_loads_passed = 2}));
  h.core->Submit(h.Request(0, 0), 0.0);                       // load 1: m0
  h.core->Submit(h.Request(1, 2, TaskKind::kReasoning), 0.1);  // m2 starts waiting
  h.core->Submit(h.Request(2, 1), 0.2);
  h.core->OnLoadFinished(0, 1.0, 1.0);
  h.core->OnRequestFinished(h.Request(0, 0), 5, 2.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "unload 0", "load 1"});  // m2 passed once
  h.core->Submit(h.Request(3, 0), 2.5);
  h.core->OnLoadFinished(1, 4.0, 2.0);
  h.core->OnRequestFinished(h.Request(2, 1), 5, 5.0);
  CHECK(h.backend.Take() == Log{"start 2@1", "unload 1", "load 0"});  // passed twice
  h.core->Submit(h.Request(4, 1), 5.5);
  h.core->OnLoadFinished(0, 6.0, 1.0);
  h.core->OnRequestFinished(h.Request(3, 0), 5, 7.0);
  // m1's completion is worth more, but m2 has been passed over twice: it goes first.
  CHECK(h.backend.Take() == Log{"start 3@0", "unload 0", "load 2"});
}

TEST_CASE("keep-alive unloads an idle model once its keep-alive has passed") {
  Harness h(10 * kGiB, {2 * kGiB}, std::make_unique<KeepAlivePolicy>(60.0));
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());
  h.core->Submit(h.Request(0, 0), 0.0);
  h.core->OnLoadFinished(0, 1.0, 1.0);
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());  // busy
  h.core->OnRequestFinished(h.Request(0, 0), 5, 2.0);
  CHECK(h.core->NextTimer() == Approx(61.0));  // last use: the request's start at 1.0
  h.core->OnTimer(30.0);
  CHECK(h.State(0) == ModelState::kResident);
  h.core->OnTimer(61.0);
  CHECK(h.State(0) == ModelState::kAbsent);
  CHECK(h.core->counters().evictions == 1);
}

}  // namespace
}  // namespace cace

