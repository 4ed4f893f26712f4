// The serving core's per-model controls: pin, keep-alive, priority, preload, unload.
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

}  // namespace
}  // namespace cace
