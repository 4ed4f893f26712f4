// How the device's steps are dispatched: the compute worker's step chain (EngineScheduler::RunChain),
// a batch stepping back to back while nothing on the scheduler changes and ending at the first step
// boundary after anything does, so that a request arriving mid-decode joins the batch at once; and
// a burst of Submits already queued on the scheduler starting in one step. The hooks order the
// threads, so no case depends on timing.
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Recorder;
using testing::SchedulerHold;
using testing::TinyModelDir;

constexpr std::uint64_t kMiB = 1ull << 20;

bool Contains(const std::vector<RequestId>& batch, RequestId id) {
  return std::find(batch.begin(), batch.end(), id) != batch.end();
}

TEST_CASE("A request submitted mid-decode joins the running batch at the next step", "[engine]") {
  constexpr std::size_t kJoinAfterStep = 3;  // the first request's steps before the second arrives
  Engine* engine_ptr = nullptr;
  Recorder rec;
  std::mutex mu;
  std::vector<std::vector<RequestId>> steps;  // each step's batch, in order
  std::size_t submitted_before_step = 0;      // index of the step whose hook submitted the second
  RequestId second = 0;
  auto made = CreateEngineForTest(
      {.memory_budget_bytes = 64 * kMiB, .compute_threads = 1},
      {.before_step = [&](const std::vector<RequestId>& batch, const std::vector<RequestId>&) {
        std::lock_guard<std::mutex> lock(mu);
        steps.push_back(batch);
        if (second != 0 || steps.size() != kJoinAfterStep + 1) return;
        // From the compute worker, mid-chain: Submit posts to the scheduler thread; Metrics returns
        // once that thread has run everything posted before it, the Submit's task included.
        auto id = engine_ptr->Submit({.model = "m", .prompt = "xyz", .max_tokens = 4}, rec.Callbacks());
        REQUIRE(id.ok());
        second = *id;
        submitted_before_step = steps.size() - 1;
        (void)engine_ptr->Metrics();
      }});
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  engine_ptr = engine.get();
  REQUIRE(engine->AddModel(TinyModelDir("chain", 0), {.id = "m"}).ok());
  REQUIRE(engine->Preload("m").ok());
  engine->WaitIdle();

  auto first = engine->Submit({.model = "m", .prompt = "abcdef", .max_tokens = 24}, rec.Callbacks());
  REQUIRE(first.ok());
  CHECK(rec.Wait(*first).status.ok());
  engine->WaitIdle();
  REQUIRE(second != 0);
  CHECK(rec.Wait(second).status.ok());

  std::lock_guard<std::mutex> lock(mu);
  // The step the second was submitted before runs without it (it was already under way); the
  // next one holds both: the chain ended at that boundary instead of running the first to its end.
  REQUIRE(steps.size() > submitted_before_step + 1);
  CHECK_FALSE(Contains(steps[submitted_before_step], second));
  CHECK(Contains(steps[submitted_before_step + 1], *first));
  CHECK(Contains(steps[submitted_before_step + 1], second));
}

TEST_CASE("A burst of requests already posted to the scheduler starts in one batch step", "[engine]") {
  constexpr std::size_t kBurst = 4;
  std::mutex mu;
  std::vector<std::vector<RequestId>> prefills;  // each step's requests still to prefill
  auto made = CreateEngineForTest(
      {.memory_budget_bytes = 64 * kMiB, .compute_threads = 1},
      {.before_step = [&](const std::vector<RequestId>&, const std::vector<RequestId>& prefill) {
        std::lock_guard<std::mutex> lock(mu);
        prefills.push_back(prefill);
      }});
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(TinyModelDir("burst", 0), {.id = "m"}).ok());
  SchedulerHold hold(*engine, "m");
  Recorder rec;
  std::vector<RequestId> burst;
  for (std::size_t i = 0; i < kBurst; ++i) {
    auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 3}, rec.Callbacks());
    REQUIRE(id.ok());
    burst.push_back(*id);
  }
  std::size_t steps_before_burst = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    steps_before_burst = prefills.size();
  }
  hold.Release();
  engine->WaitIdle();
  for (RequestId id : burst) CHECK(rec.Wait(id).status.ok());

  std::lock_guard<std::mutex> lock(mu);
  // The first step after the warm-up prefills the whole burst: no step started on the first
  // request alone while the others waited in the scheduler's queue.
  REQUIRE(prefills.size() > steps_before_burst);
  CHECK(prefills[steps_before_burst] == burst);
}

}  // namespace
}  // namespace cace
