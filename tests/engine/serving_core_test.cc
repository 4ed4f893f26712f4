#include <optional>
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

TEST_CASE("a request's KV reservation is its prompt plus max_tokens, times the model's KV bytes per token") {
  Harness h(10 * kGiB, {});
  ModelSpec spec{"kv", {}, WeightFormat::kSimulated, kGiB, 1000, 1.0};
  const ModelHandle m = h.core->AddModel(spec).value();
  h.Submit(CoreRequest{0, m, TaskKind::kChat, 0.0, 100, 50}, 0.0);
  h.Loaded(m, 1.0, 1.0);
  CHECK(h.Record(m).kv_bytes == 150 * 1000);
  CHECK(h.core->registry().used_bytes() == kGiB + 150 * 1000);
  h.Finish(0, 7, 2.0);  // 7 tokens generated: the reservation was for 50, all of it is returned
  CHECK(h.Record(m).kv_bytes == 0);
  CHECK(KvReservationBytes(100, 50, 1000) == 150'000);
}

TEST_CASE("Submit's errors are distinct and change nothing") {
  Harness h(4 * kGiB, {2 * kGiB, 2 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(),
            CoreOptions{.max_waiting = 3, .max_waiting_per_model = 2});
  h.Submit(h.Request(0, 0), 0.0);
  h.backend.Take();
  auto unchanged = [&] {
    CHECK(h.backend.Take().empty());
    CHECK(h.core->waiting_requests() == 1);  // request 0, for the model loading
    CHECK(h.core->registry().used_bytes() == 2 * kGiB);  // model 0 loading
    CHECK(h.core->CheckInvariants().ok());
  };
  CHECK(h.core->Submit(h.Request(1, 7), 0.1).code() == absl::StatusCode::kNotFound);
  unchanged();
  CHECK(h.core->Submit(CoreRequest{1, 0, TaskKind::kChat, 0.1, 10, 0}, 0.1).code() ==
        absl::StatusCode::kInvalidArgument);
  unchanged();
  CHECK(h.core->Submit(h.Request(0, 1), 0.1).code() == absl::StatusCode::kAlreadyExists);
  unchanged();
  const absl::Status too_big = h.core->Submit(h.Request(1, 1, TaskKind::kChat, 2 * kGiB + 1), 0.1);
  CHECK(too_big.code() == absl::StatusCode::kOutOfRange);
  CHECK(std::string(too_big.message()).find("larger than the memory") != std::string::npos);
  unchanged();
  // The queue bounds: two per model, three in all.
  h.Submit(h.Request(1, 0), 0.2);
  const absl::Status per_model = h.core->Submit(h.Request(2, 0), 0.3);
  CHECK(per_model.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(per_model.message()).find("max_waiting_per_model") != std::string::npos);
  h.Submit(h.Request(3, 1), 0.4);
  const absl::Status total = h.core->Submit(h.Request(4, 1), 0.5);
  CHECK(total.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(total.message()).find("(max_waiting)") != std::string::npos);
  CHECK(h.core->waiting_requests() == 3);
  CHECK(h.core->registry().Get(0)->queued == 2);
  CHECK(h.Ended(2) == absl::StatusCode::kUnknown);  // refused requests never end: they never began
}

TEST_CASE("a failed load returns its memory, tells its waiting requests why and lets others load") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Submit(h.Request(1, 0), 0.1);
  h.Submit(h.Request(2, 1), 0.2);
  CHECK(h.backend.Take() == Log{"load 0"});
  CHECK(h.core->registry().used_bytes() == 2 * kGiB);
  CHECK(h.core->OnLoadFailed(0, absl::OkStatus(), 1.0).code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.core->OnLoadFailed(1, absl::DataLossError("x"), 1.0).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(h.core->OnLoadFailed(0, absl::DataLossError("file truncated at byte 12"), 1.0).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.Ended(0) == absl::StatusCode::kDataLoss);
  CHECK(h.Ended(1) == absl::StatusCode::kDataLoss);
  const std::string why(h.backend.ended[0].second.message());
  CHECK(why.find("m0") != std::string::npos);
  CHECK(why.find("truncated") != std::string::npos);
  CHECK(h.State(0) == ModelState::kAbsent);
  CHECK(h.core->counters().failed_loads == 1);
  CHECK(h.backend.Take() == Log{"load 1"});  // model 0's memory went to model 1
  h.Loaded(1, 2.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 2@1"});
  // A later request for the failed model tries a new load.
  h.Submit(h.Request(3, 0), 3.0);
  h.Finish(2, 5, 3.5);
  CHECK(h.backend.Take() == Log{"unload 1", "load 0"});
}

TEST_CASE("the bytes a backend measures replace the registered ones; a load that does not fit is undone") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 1 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Submit(h.Request(1, 0, TaskKind::kChat, 2 * kGiB), 0.1);  // fits 2 GiB of weights, not 3.5
  REQUIRE(h.core->OnLoadFinished(0, 1.0, 1.0, 3 * kGiB + kGiB / 2).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.Record(0).spec.weight_bytes == 3 * kGiB + kGiB / 2);
  CHECK(h.Ended(1) == absl::StatusCode::kOutOfRange);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0"});
  // Model 2 was registered at 1 GiB and fits the 1.5 GiB left; it measures 2 GiB: undone.
  h.Submit(h.Request(2, 2), 2.0);
  CHECK(h.backend.Take() == Log{"load 2"});
  REQUIRE(h.core->OnLoadFinished(2, 3.0, 1.0, 2 * kGiB).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"unload 2"});
  CHECK(h.Ended(2) == absl::StatusCode::kResourceExhausted);
  CHECK(h.State(2) == ModelState::kAbsent);
  CHECK(h.Record(2).spec.weight_bytes == kGiB);  // nothing learned from a load that was undone
  CHECK(h.core->counters().failed_loads == 1);
  CHECK(h.core->registry().used_bytes() == 3 * kGiB + kGiB / 2 + 1);  // model 0 and request 0
}

TEST_CASE("a waiting request is cancelled: it leaves its queue, and the load chosen for it is dropped") {
  Harness h(3 * kGiB + 16, {1 * kGiB, 3 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.Submit(h.Request(1, 1), 2.0);  // model 0 is busy: it drains for model 1
  CHECK(h.State(0) == ModelState::kEvicting);
  CHECK(h.core->promised_bytes() == 2 * kGiB);  // what the drain does not free is kept from KV
  h.backend.Take();
  REQUIRE(h.core->Cancel(1, 2.5).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.Ended(1) == absl::StatusCode::kCancelled);
  CHECK(h.core->waiting_requests() == 0);
  CHECK(h.core->promised_bytes() == 0);
  CHECK(h.core->Cancel(1, 2.6).code() == absl::StatusCode::kNotFound);
  h.Finish(0, 5, 3.0);
  CHECK(h.backend.Take() == Log{"unload 0"});  // the drain completes; nothing to load now
  CHECK(h.core->counters().cancelled == 1);
}

TEST_CASE("cancelling the head of a model's queue lets the request behind it in") {
  Harness h(4 * kGiB, {2 * kGiB});
  h.Submit(h.Request(0, 0, TaskKind::kChat, kGiB), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.Submit(h.Request(1, 0, TaskKind::kChat, 2 * kGiB), 1.1);  // 2 + 1 + 2 > 4: waits
  h.Submit(h.Request(2, 0), 1.2);                             // first in, first out: waits behind it
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0"});
  REQUIRE(h.core->Cancel(1, 1.3).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"start 2@0"});
  CHECK(h.Ended(1) == absl::StatusCode::kCancelled);
}

TEST_CASE("a running request is cancelled: the backend stops it, its KV room and batch slot are freed") {
  Harness h(4 * kGiB, {2 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), CoreOptions{.max_batch = 1});
  h.Submit(h.Request(0, 0, TaskKind::kChat, kGiB), 0.0);
  h.Submit(h.Request(1, 0, TaskKind::kChat, kGiB), 0.1);
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0"});
  CHECK(h.Record(0).kv_bytes == kGiB);
  REQUIRE(h.core->Cancel(0, 1.5).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"stop 0", "start 1@0"});
  CHECK(h.Ended(0) == absl::StatusCode::kCancelled);
  CHECK(h.Record(0).in_flight == 1);
  CHECK(h.Record(0).kv_bytes == kGiB);  // request 1's, not request 0's as well
  // A finish report that crosses the cancellation is refused without harm.
  CHECK(h.core->OnRequestFinished(0, 3, 1.6).code() == absl::StatusCode::kNotFound);
  REQUIRE(h.core->CheckInvariants().ok());
}

TEST_CASE("cancelling the last request of a draining victim unloads it and starts the waiting load") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.Submit(h.Request(1, 1), 2.0);
  h.backend.Take();
  REQUIRE(h.core->Cancel(0, 2.5).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"stop 0", "unload 0", "load 1"});
}

TEST_CASE("a cancellation may give its reason, a deadline for one") {
  Harness h(10 * kGiB, {2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  CHECK(h.core->Cancel(0, 1.0, absl::OkStatus()).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(h.core->Cancel(0, 1.0, absl::DeadlineExceededError("deadline passed")).ok());
  CHECK(h.Ended(0) == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(h.backend.ended[0].second.message()).find("deadline passed") != std::string::npos);
}

TEST_CASE("a preload loads a model no request waits for, in its turn on the load path") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  REQUIRE(h.core->Preload(1, 0.5).ok());  // one load at a time: it waits for model 0's
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"load 0"});
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"start 0@0", "load 1"});
  h.Loaded(1, 2.0, 1.0);
  CHECK(h.State(1) == ModelState::kResident);
  CHECK(h.Record(1).in_flight == 0);
  REQUIRE(h.core->Preload(1, 3.0).ok());  // resident: nothing to do
  CHECK(h.backend.Take().empty());
  CHECK(h.core->Preload(9, 3.0).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a preload is dropped by an unload before its load starts") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  REQUIRE(h.core->Preload(1, 0.5).ok());
  REQUIRE(h.core->Unload(1, 0.6).ok());
  h.Loaded(0, 1.0, 1.0);
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0"});
}

TEST_CASE("the host's unload: an idle model at once, a busy one after it drains; never a pinned one") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  CHECK(h.core->Unload(0, 0.5).code() == absl::StatusCode::kFailedPrecondition);  // loading
  h.Loaded(0, 1.0, 1.0);
  h.Submit(h.Request(1, 1), 1.5);
  h.Loaded(1, 2.0, 1.0);
  h.Finish(1, 3, 2.5);
  h.backend.Take();
  REQUIRE(h.core->Unload(1, 3.0).ok());  // idle
  CHECK(h.backend.Take() == Log{"unload 1"});
  REQUIRE(h.core->Unload(0, 3.1).ok());  // busy: it drains
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.State(0) == ModelState::kEvicting);
  h.Submit(h.Request(2, 0), 3.2);  // waits for the reload
  CHECK(h.backend.Take().empty());
  h.Finish(0, 3, 4.0);
  CHECK(h.backend.Take() == Log{"unload 0", "load 0"});
  CHECK(h.core->counters().host_unloads == 2);
  CHECK(h.core->counters().evictions == 0);
  h.Loaded(0, 5.0, 1.0);
  REQUIRE(h.core->SetPinned(0, true, 5.5).ok());
  CHECK(h.core->Unload(0, 6.0).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(h.State(0) == ModelState::kResident);
  REQUIRE(h.core->Unload(1, 6.0).ok());  // absent: nothing to do
}

TEST_CASE("models are added and removed at run time; removal is refused while the model is in use") {
  Harness h(4 * kGiB, {2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  CHECK(h.core->RemoveModel(0, 0.5).code() == absl::StatusCode::kFailedPrecondition);  // loading, queued
  h.Loaded(0, 1.0, 1.0);
  const absl::Status busy = h.core->RemoveModel(0, 1.5);
  CHECK(busy.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(busy.message()).find("1 requests running") != std::string::npos);
  CHECK(h.State(0) == ModelState::kResident);
  h.Finish(0, 5, 2.0);
  h.backend.Take();
  REQUIRE(h.core->RemoveModel(0, 3.0).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.backend.Take() == Log{"unload 0"});
  CHECK(h.core->registry().size() == 0);
  CHECK(h.core->registry().used_bytes() == 0);
  CHECK(h.core->registry().Find("m0").status().code() == absl::StatusCode::kNotFound);
  CHECK(h.core->Submit(h.Request(1, 0), 3.5).code() == absl::StatusCode::kNotFound);
  CHECK(h.core->counters().evictions == 0);  // a removal is the host's order, not an eviction

  ModelSpec spec{"m0", {}, WeightFormat::kSimulated, 3 * kGiB, 1, 1.0};
  const ModelHandle again = h.core->AddModel(spec).value();
  CHECK(again == 1);  // handles are never reused
  h.Submit(h.Request(2, again), 4.0);
  h.Loaded(again, 5.0, 1.0);
  CHECK(h.backend.Take() == Log{"load 1", "start 2@1"});
  CHECK(h.core->registry().Get(again)->spec.weight_bytes == 3 * kGiB);
}

TEST_CASE("when every resident model is pinned, a request needing their room gets a clear error") {
  Harness h(4 * kGiB + 16, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u}) {
    h.Submit(h.Request(m, m), m);
    h.Loaded(m, m + 0.5, 0.5);
    h.Finish(m, 5, m + 0.7);
    REQUIRE(h.core->SetPinned(m, true, 2.0).ok());
  }
  h.backend.Take();
  const absl::Status refused = h.core->Submit(h.Request(5, 2), 3.0);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(refused.message()).find("pinned") != std::string::npos);
  CHECK(h.backend.Take().empty());
  CHECK(h.State(0) == ModelState::kResident);
  CHECK(h.State(1) == ModelState::kResident);
  // Requests for the pinned models themselves still run.
  h.Submit(h.Request(6, 1), 3.1);
  CHECK(h.backend.Take() == Log{"start 6@1"});
  // A third pin would exceed the budget; unpinning model 0 lets the request in, at model 0's cost.
  CHECK(h.core->SetPinned(2, true, 3.2).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(h.core->SetPinned(0, false, 3.3).ok());
  h.Submit(h.Request(7, 2), 3.4);
  CHECK(h.backend.Take() == Log{"unload 0", "load 2"});
  CHECK(h.State(1) == ModelState::kResident);
  // With 1 and 2 pinned, a waiting request for model 0 could never run: that pin is refused.
  h.Submit(h.Request(8, 0), 3.5);
  CHECK(h.core->SetPinned(2, true, 3.6).code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(h.core->registry().Get(2)->pinned);
}

TEST_CASE("pinning is refused when a waiting request could then never run") {
  Harness h(4 * kGiB + 16, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  REQUIRE(h.core->SetPinned(0, true, 0.0).ok());
  h.Submit(h.Request(0, 2), 0.0);  // loads model 2 (model 0 is pinned but absent)
  h.Submit(h.Request(1, 1), 0.1);  // waits for the load path
  const absl::Status refused = h.core->SetPinned(2, true, 0.2);
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(refused.message()).find("request 1") != std::string::npos);
  CHECK_FALSE(h.core->registry().Get(2)->pinned);
}

TEST_CASE("a pinned model is never evicted, even by its keep-alive") {
  Harness h(10 * kGiB, {2 * kGiB}, std::make_unique<KeepAlivePolicy>(60.0));
  h.Submit(h.Request(0, 0), 0.0);
  h.Loaded(0, 1.0, 1.0);
  h.Finish(0, 5, 2.0);
  REQUIRE(h.core->SetPinned(0, true, 2.0).ok());
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());
  h.core->OnTimer(100.0);
  CHECK(h.State(0) == ModelState::kResident);
}

TEST_CASE("a per-model keep-alive overrides the policy's idle timeout") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB});  // LRU: never unloads on its own
  for (ModelHandle m : {0u, 1u}) {
    h.Submit(h.Request(m, m), 0.0);
  }
  h.Loaded(0, 1.0, 1.0);
  h.Loaded(1, 2.0, 1.0);
  h.Finish(0, 5, 3.0);
  h.Finish(1, 5, 3.0);
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());
  CHECK(h.core->SetKeepAlive(0, -1.0).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(h.core->SetKeepAlive(0, 10.0).ok());
  CHECK(h.core->NextTimer() == Approx(11.0));  // last use: its request's start at 1.0
  CHECK(h.Record(0).keep_alive == 10.0);
  h.core->OnTimer(11.0);
  CHECK(h.State(0) == ModelState::kAbsent);
  CHECK(h.State(1) == ModelState::kResident);
  REQUIRE(h.core->SetKeepAlive(0, std::nullopt).ok());
  CHECK(h.core->NextTimer() == std::numeric_limits<Seconds>::infinity());
}

TEST_CASE("a higher-priority model is loaded before older requests for lower-priority ones") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  h.Submit(h.Request(0, 0), 0.0);
  h.Submit(h.Request(1, 1), 0.1);  // oldest waiting: first come, first served would load it next
  h.Submit(h.Request(2, 2), 0.2);
  REQUIRE(h.core->SetPriority(2, 5, 0.3).ok());
  CHECK(h.Record(2).priority == 5);
  h.Loaded(0, 1.0, 1.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "load 2"});
}

TEST_CASE("the device turns between models with running requests, round-robin") {
  Harness h(10 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  for (ModelHandle m : {0u, 1u, 2u}) {
    h.Submit(h.Request(m, m), 0.0);
    h.Loaded(m, 1.0 + m, 1.0);
  }
  h.Submit(h.Request(10, 0), 4.0);  // model 0 has two requests
  auto step = [&](ModelHandle expected, std::vector<FinishedRequest> finished, Seconds now) {
    const std::optional<ModelHandle> picked = h.core->PickModelToStep();
    REQUIRE(picked.has_value());
    CHECK(*picked == expected);
    REQUIRE(h.core->CheckInvariants().ok());
    REQUIRE(h.core->OnStepFinished(*picked, finished, now).ok());
    REQUIRE(h.core->CheckInvariants().ok());
  };
  step(0, {}, 5.0);
  step(1, {}, 5.1);
  step(2, {{2, 3}}, 5.2);  // model 2's only request ends: it leaves the ring
  step(0, {{0, 4}}, 5.3);  // model 0 keeps request 10: back of the ring
  step(1, {}, 5.4);
  h.Submit(h.Request(11, 2), 5.5);  // model 2 has work again: it joins the back, behind model 1
  step(0, {}, 5.6);
  step(1, {{1, 6}}, 5.7);  // model 1 is done: the ring is 2, 0
  step(2, {}, 5.8);
  // A request cancelled during its model's step is skipped when the step reports it finished.
  const std::optional<ModelHandle> picked = h.core->PickModelToStep();
  REQUIRE(picked == std::optional<ModelHandle>(0));
  REQUIRE(h.core->Cancel(10, 5.9).ok());
  REQUIRE(h.core->OnStepFinished(0, std::vector<FinishedRequest>{{10, 9}}, 6.0).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.Ended(10) == absl::StatusCode::kCancelled);
  step(2, {{11, 1}}, 6.1);
  CHECK_FALSE(h.core->PickModelToStep().has_value());
  CHECK(h.core->OnStepFinished(0, {}, 6.2).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("every accepted request ends exactly once, with OK when it finished") {
  Harness h(5 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB});
  std::uint64_t id = 0;
  for (int round = 0; round < 6; ++round) {
    const Seconds t = round * 10.0;
    for (ModelHandle m : {0u, 1u, 2u}) h.Submit(h.Request(id++, m), t);
    // Drive until everything submitted so far has finished.
    for (int guard = 0; guard < 100 && h.core->waiting_requests() + h.backend.log.size() > 0; ++guard) {
      for (const std::string& event : h.backend.Take()) {
        const auto space = event.find(' ');
        const std::string what = event.substr(0, space);
        if (what == "load") h.Loaded(static_cast<ModelHandle>(std::stoul(event.substr(space + 1))), t + 1, 1.0);
        if (what == "start") h.Finish(std::stoull(event.substr(space + 1)), 3, t + 2);
      }
    }
  }
  REQUIRE(h.backend.ended.size() == id);
  for (std::uint64_t r = 0; r < id; ++r) CHECK(h.Ended(r) == absl::StatusCode::kOk);
}

}  // namespace
}  // namespace cace

