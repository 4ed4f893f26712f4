// A request's and a model's life in the serving core: Submit's errors, failed loads, measured
// bytes, cancellation, models added and removed.
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

TEST_CASE("a pinned model measured larger ends the waiting requests that can then never fit") {
  Harness h(5 * kGiB + 16, {2 * kGiB, 2 * kGiB});
  REQUIRE(h.core->SetPinned(0, true, 0.0).ok());
  h.Submit(h.Request(0, 0), 0.0);
  h.Submit(h.Request(1, 1), 0.1);  // waits for the load path; 2 + 2 GiB fit the budget
  REQUIRE(h.core->OnLoadFinished(0, 1.0, 1.0, 3 * kGiB + kGiB / 2).ok());
  REQUIRE(h.core->CheckInvariants().ok());
  CHECK(h.Ended(1) == absl::StatusCode::kFailedPrecondition);  // 3.5 pinned + 2 > 5
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0"});
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

}  // namespace
}  // namespace cace
