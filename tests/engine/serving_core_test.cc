// The serving core's scheduling: loads, victims, drains, KV room, batches, the device ring.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/engine/core_harness.h"

namespace cace {
namespace {

using testing::Harness;
using testing::kGiB;
using testing::Log;

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
