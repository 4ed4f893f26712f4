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
  std::vector<std::pair<std::uint64_t, absl::Status>> ended;
  void StartLoad(ModelHandle m) override { log.push_back("load " + std::to_string(m)); }
  void Unload(ModelHandle m) override { log.push_back("unload " + std::to_string(m)); }
  void StartRequest(const CoreRequest& r) override {
    log.push_back("start " + std::to_string(r.id) + "@" + std::to_string(r.model));
  }
  void StopRequest(const CoreRequest& r) override { log.push_back("stop " + std::to_string(r.id)); }
  void RequestEnded(const CoreRequest& r, const absl::Status& status) override {
    ended.emplace_back(r.id, status);
  }
  Seconds DrainSeconds(ModelHandle) const override { return 1.0; }
  std::vector<std::string> Take() { return std::exchange(log, {}); }
};

// Each model's KV cache costs one byte per token, so a request's reservation in bytes is its
// prompt + max_tokens.
struct Harness {
  explicit Harness(std::uint64_t capacity, std::vector<std::uint64_t> sizes,
                   std::unique_ptr<EvictionPolicy> p = std::make_unique<LruPolicy>(),
                   std::unique_ptr<LoadScheduler> s = std::make_unique<FcfsLoadScheduler>(),
                   CoreOptions options = {})
      : policy(std::move(p)), scheduler(std::move(s)),
        core(std::make_unique<ServingCore>(capacity, *policy, *scheduler, backend, options)) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      ModelSpec spec{"m" + std::to_string(i), {}, WeightFormat::kSimulated, sizes[i], 1, 1.0 + static_cast<double>(i)};
      REQUIRE(core->AddModel(spec).value() == i);
    }
  }
  // A request whose KV reservation is `kv` bytes (at least 1: max_tokens is at least 1).
  CoreRequest Request(std::uint64_t id, ModelHandle model, TaskKind kind = TaskKind::kCompletion,
                      std::uint64_t kv = 0, Seconds arrival = 0) {
    return CoreRequest{id, model, kind, arrival, 0, static_cast<std::uint32_t>(std::max<std::uint64_t>(1, kv))};
  }
  // Driver events, each followed by the invariant check.
  void Submit(const CoreRequest& r, Seconds now) {
    REQUIRE(core->Submit(r, now).ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  void Loaded(ModelHandle m, Seconds now, Seconds measured) {
    REQUIRE(core->OnLoadFinished(m, now, measured).ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  void Finish(std::uint64_t id, std::uint32_t tokens, Seconds now) {
    REQUIRE(core->OnRequestFinished(id, tokens, now).ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  ModelState State(ModelHandle m) { return core->registry().Get(m)->state; }
  ModelRecord Record(ModelHandle m) { return core->registry().Get(m).value(); }
  absl::StatusCode Ended(std::uint64_t id) {
    absl::StatusCode code = absl::StatusCode::kUnknown;
    int times = 0;
    for (const auto& [ended_id, status] : backend.ended) {
      if (ended_id == id) code = status.code(), ++times;
    }
    REQUIRE(times <= 1);  // a request ends once
    return times == 1 ? code : absl::StatusCode::kUnknown;
  }

  std::unique_ptr<EvictionPolicy> policy;
  std::unique_ptr<LoadScheduler> scheduler;
  RecordingBackend backend;
  std::unique_ptr<ServingCore> core;
};

using Log = std::vector<std::string>;

TEST_CASE("a request for an absent model loads it, then starts") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  CHECK(h.backend.Take() == Log{"load 0"});
  CHECK(h.State(0) == ModelState::kLoading);
  h.Submit(h.Request(1, 0), 0.5);  // waits for the load in progress
  h.Submit(h.Request(2, 1), 0.6);  // waits: one load at a time
  CHECK(h.backend.Take().empty());
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 0@0", "start 1@0", "load 1"});
  CHECK(h.core->counters().loads == 2);
  CHECK(h.core->counters().bytes_loaded == 4 * kGiB);
}

TEST_CASE("room for a load comes from an idle model chosen by the policy") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u}) {
    h.Submit(h.Request(m, m), m);
    h.Loaded(m, m + 0.5, 0.5);
    h.Finish(m, 10, m + 0.7);
  }
  h.backend.Take();
  h.Submit(h.Request(9, 2), 5.0);
  CHECK(h.backend.Take() == Log{"unload 0", "load 2"});  // LRU: model 0 was used first
  CHECK(h.core->counters().evictions == 1);
  CHECK(h.State(0) == ModelState::kAbsent);
}

TEST_CASE("a busy victim drains: no new requests, then unloads, then the load starts") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.backend.Take();
  h.Submit(h.Request(1, 1), 2.0);  // model 0 is busy: it is chosen to drain
  CHECK(h.State(0) == ModelState::kEvicting);
  CHECK(h.core->counters().drains == 1);
  h.Submit(h.Request(2, 0), 2.5);  // a draining model takes nothing new
  CHECK(h.backend.Take().empty());
  h.Finish(0, 10, 3.0);
  CHECK(h.backend.Take() == Log{"unload 0", "load 1"});
  CHECK(h.core->counters().drain_wait_seconds == Approx(1.0));  // chosen at 2.0, started at 3.0
  h.Loaded(1, 4.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 1@1"});
  // Request 2 for model 0 waits for its reload, which needs model 1 to drain in turn.
  CHECK(h.State(1) == ModelState::kEvicting);
  h.Finish(1, 10, 5.0);
  CHECK(h.backend.Take() == Log{"unload 1", "load 0"});
  CHECK(h.core->counters().drain_wait_seconds == Approx(2.0));  // and 4.0 to 5.0
  h.Loaded(0, 6.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 2@0"});
  CHECK(h.core->waiting_requests() == 0);
}

TEST_CASE("a pinned model is never drained; its neighbour is") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u}) {
    h.Submit(h.Request(m, m), m);
    h.Loaded(m, m + 0.5, 0.5);
  }
  REQUIRE(h.core->SetPinned(0, true, 2.0).ok());
  h.backend.Take();
  h.Submit(h.Request(5, 2), 3.0);
  CHECK(h.State(0) == ModelState::kResident);
  CHECK(h.State(1) == ModelState::kEvicting);
}

TEST_CASE("KV cache room limits admission; a finished request makes room") {
  Harness h(4 * kGiB, {2 * kGiB});
  h.Submit(h.Request(0, 0, TaskKind::kChat, kGiB), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.Submit(h.Request(1, 0, TaskKind::kChat, kGiB), 1.1);
  h.Submit(h.Request(2, 0, TaskKind::kChat, kGiB), 1.2);  // 2 + 1 + 1 + 1 > 4
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "start 1@0"});
  CHECK(h.core->registry().used_bytes() == 4 * kGiB);
  h.Finish(0, 100, 2.0);
  CHECK(h.backend.Take() == Log{"start 2@0"});
}

TEST_CASE("the batch size bounds the requests a model serves at once") {
  Harness h(10 * kGiB, {2 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), CoreOptions{.max_batch = 2});
  for (std::uint64_t i = 0; i < 3; ++i) h.Submit(h.Request(i, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "start 1@0"});
  h.Finish(0, 5, 2.0);
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
  // Room for one model at a time (and its requests' few KV bytes); m2's lone reasoning request (3 s load) is worth less than each
  // completion for m0 or m1, which keep arriving.
  Harness h(kGiB + 16, {1 * kGiB, 1 * kGiB, 1 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<ContextLoadScheduler>(ContextSchedulerOptions{.max_loads_passed = 2}));
  h.Submit(h.Request(0, 0), 0.0);                       // load 1: m0
  h.Submit(h.Request(1, 2, TaskKind::kReasoning), 0.1);  // m2 starts waiting
  h.Submit(h.Request(2, 1), 0.2);
  h.Loaded(0, 1.0, 1.0);
  h.Finish(0, 5, 2.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "unload 0", "load 1"});  // m2 passed once
  h.Submit(h.Request(3, 0), 2.5);
  h.Loaded(1, 4.0, 2.0);
  h.Finish(2, 5, 5.0);
  CHECK(h.backend.Take() == Log{"start 2@1", "unload 1", "load 0"});  // passed twice
  h.Submit(h.Request(4, 1), 5.5);
  h.Loaded(0, 6.0, 1.0);
  h.Finish(3, 5, 7.0);
  // m1's completion is worth more, but m2 has been passed over twice: it goes first.
  CHECK(h.backend.Take() == Log{"start 3@0", "unload 0", "load 2"});
}

TEST_CASE("keep-alive unloads an idle model once its keep-alive has passed") {
  Harness h(10 * kGiB, {2 * kGiB}, std::make_unique<KeepAlivePolicy>(60.0));
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());
  h.Submit(h.Request(0, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());  // busy
  h.Finish(0, 5, 2.0);
  CHECK(h.core->NextTimer() == Approx(61.0));  // last use: the request's start at 1.0
  h.core->OnTimer(30.0);
  CHECK(h.State(0) == ModelState::kResident);
  h.core->OnTimer(61.0);
  CHECK(h.State(0) == ModelState::kAbsent);
  CHECK(h.core->counters().evictions == 1);
}

}  // namespace
}  // namespace cace

