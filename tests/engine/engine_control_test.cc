// Requests that do not run to their end: cancelled at each stage, past their deadline (on the wall
// clock and on a manual one), beyond the queue bound, waiting on a load that fails. The hooks stop
// the engine at the exact point each case needs, so no case depends on timing.
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Recorder;
using testing::TinyModelDir;

constexpr std::uint64_t kMiB = 1ull << 20;

// Holds the load of one model until opened.
class LoadGate {
 public:
  explicit LoadGate(std::string model) : model_(std::move(model)), opened_(open_.get_future().share()) {}
  void BeforeLoad(const std::string& model) {
    if (model != model_) return;
    reached_.set_value();
    opened_.wait();
  }
  void WaitReached() { reached_future_.wait(); }
  void Open() { open_.set_value(); }

 private:
  std::string model_;
  std::promise<void> open_;
  std::shared_future<void> opened_;
  std::promise<void> reached_;
  std::future<void> reached_future_ = reached_.get_future();
};

std::unique_ptr<Engine> MakeEngine(EngineHooks hooks, EngineOptions options = {}) {
  if (options.memory_budget_bytes == 0) options.memory_budget_bytes = 64 * kMiB;
  options.compute_threads = 1;
  auto engine = CreateEngineForTest(options, std::move(hooks));
  REQUIRE(engine.ok());
  return *std::move(engine);
}

TEST_CASE("Cancel while queued behind a full batch", "[engine]") {
  auto engine = MakeEngine({}, {.max_batch = 1});
  REQUIRE(engine->AddModel(TinyModelDir("cq", 0), {.id = "m"}).ok());
  Recorder rec;
  // The first request's on_token cancels the second while the second waits for the only slot.
  RequestId second = 0;
  std::promise<void> second_known;
  std::shared_future<void> known = second_known.get_future().share();
  RequestCallbacks first_callbacks = rec.Callbacks();
  auto record_token = first_callbacks.on_token;
  Engine* e = engine.get();
  bool cancelled = false;
  first_callbacks.on_token = [&, record_token, e](const TokenPiece& p) {
    known.wait();
    if (!cancelled) cancelled = e->Cancel(second);
    return record_token(p);
  };
  auto first = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 8}, first_callbacks);
  REQUIRE(first.ok());
  auto id = engine->Submit({.model = "m", .prompt = "xyz", .max_tokens = 8}, rec.Callbacks());
  REQUIRE(id.ok());
  second = *id;
  second_known.set_value();
  engine->WaitIdle();
  CHECK(cancelled);
  const auto done = rec.Get(second);
  REQUIRE(done.results.size() == 1);
  CHECK(done.results[0].status.code() == absl::StatusCode::kCancelled);
  CHECK(done.tokens.empty());
  CHECK(done.results[0].timings.queued == -1);  // never joined the batch
  CHECK(rec.Get(*first).results.at(0).status.ok());
}

TEST_CASE("Cancel while its model loads", "[engine]") {
  LoadGate gate("m");
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }});
  REQUIRE(engine->AddModel(TinyModelDir("cl", 0), {.id = "m"}).ok());
  Recorder rec;
  auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 8}, rec.Callbacks());
  REQUIRE(id.ok());
  gate.WaitReached();
  CHECK(engine->Cancel(*id));
  const RequestResult r = rec.Wait(*id);
  CHECK(r.status.code() == absl::StatusCode::kCancelled);
  CHECK(r.usage.completion_tokens == 0);
  gate.Open();
  CHECK_FALSE(engine->Cancel(*id));  // already ended
  // The load finishes and the model serves the next request.
  auto next = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 3}, rec.Callbacks());
  REQUIRE(next.ok());
  CHECK(rec.Wait(*next).status.ok());
}

TEST_CASE("Cancel during prefill and mid-decode", "[engine]") {
  Engine* engine_ptr = nullptr;
  std::atomic<RequestId> cancel_in_prefill{0};
  auto engine = MakeEngine({.before_step = [&](const std::vector<RequestId>&, const std::vector<RequestId>& prefill) {
    for (RequestId id : prefill) {
      if (id == cancel_in_prefill.load()) engine_ptr->Cancel(id);
    }
  }});
  engine_ptr = engine.get();
  REQUIRE(engine->AddModel(TinyModelDir("cp", 0), {.id = "m"}).ok());
  Recorder rec;
  // Warm the model, so the next request's first step is its prefill on a resident model.
  auto warm = engine->Submit({.model = "m", .prompt = "a", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(warm.ok());
  rec.Wait(*warm);

  // Ids are sequential: the next Submit gets warm + 1.
  cancel_in_prefill = *warm + 1;
  auto in_prefill = engine->Submit({.model = "m", .prompt = "abcdef", .max_tokens = 8}, rec.Callbacks());
  REQUIRE(in_prefill.ok());
  REQUIRE(*in_prefill == cancel_in_prefill.load());
  const RequestResult p = rec.Wait(*in_prefill);
  CHECK(p.status.code() == absl::StatusCode::kCancelled);
  CHECK(rec.Get(*in_prefill).tokens.empty());

  // Mid-decode: its own third token cancels it; nothing more is streamed.
  RequestCallbacks callbacks = rec.Callbacks();
  auto record = callbacks.on_token;
  int seen = 0;
  callbacks.on_token = [&, record](const TokenPiece& piece) {
    if (++seen == 3) engine_ptr->Cancel(piece.id);
    return record(piece);
  };
  auto mid = engine->Submit({.model = "m", .prompt = "abcdef", .max_tokens = 40}, callbacks);
  REQUIRE(mid.ok());
  const RequestResult m = rec.Wait(*mid);
  CHECK(m.status.code() == absl::StatusCode::kCancelled);
  CHECK(m.reason == EndReason::kCancelled);
  CHECK(rec.Get(*mid).tokens.size() == 3);
  CHECK(m.usage.completion_tokens == 3);
}

TEST_CASE("A request past its deadline ends with DeadlineExceeded", "[engine]") {
  LoadGate gate("m");
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }});
  REQUIRE(engine->AddModel(TinyModelDir("dl", 0), {.id = "m"}).ok());
  Recorder rec;
  auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 8, .deadline_seconds = 0.05}, rec.Callbacks());
  REQUIRE(id.ok());
  // The load stays blocked until the deadline has ended the request.
  const RequestResult r = rec.Wait(*id);
  gate.Open();
  CHECK(r.status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(r.timings.end_to_end >= 0.05);
}

// On a manual clock the engine's timers move only when the clock does: a deadline ten seconds off
// stays pending however long the test takes, and expires once the clock passes it. Any call that
// reaches the scheduler (Metrics here) after the clock moved sees what the move made due.
TEST_CASE("A deadline expires when a manual clock passes it, and not before", "[engine]") {
  auto clock = std::make_shared<ManualClock>();
  LoadGate gate("m");
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }}, {.clock = clock});
  REQUIRE(engine->AddModel(TinyModelDir("mc", 0), {.id = "m"}).ok());
  Recorder rec;
  auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 8, .deadline_seconds = 10}, rec.Callbacks());
  REQUIRE(id.ok());
  gate.WaitReached();  // its model's load is held: the request can only wait

  clock->Advance(9.5);
  (void)engine->Metrics();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // real time does not expire it either
  CHECK(engine->Metrics().models[0].queued == 1);
  CHECK(rec.Get(*id).results.empty());

  clock->Advance(1.0);
  const MetricsSnapshot seen = engine->Metrics();  // the first call after the move sees it done
  CHECK(seen.uptime_seconds == Approx(10.5));
  CHECK(seen.models[0].queued == 0);
  CHECK(rec.Get(*id).results.size() == 1);
  gate.Open();
  const RequestResult r = rec.Wait(*id);
  CHECK(r.status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(r.timings.end_to_end == Approx(10.5));  // on the manual clock
}

TEST_CASE("Submit beyond the queue bound fails at once; the queued ones still run", "[engine]") {
  LoadGate gate("m");
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }},
                           {.max_pending_requests = 3});
  REQUIRE(engine->AddModel(TinyModelDir("qb", 0), {.id = "m"}).ok());
  Recorder rec;
  std::vector<RequestId> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 2}, rec.Callbacks());
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  auto over = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 2}, rec.Callbacks());
  CHECK(over.status().code() == absl::StatusCode::kResourceExhausted);
  gate.Open();
  engine->WaitIdle();
  for (RequestId id : ids) CHECK(rec.Get(id).results.at(0).status.ok());
  // Room again once they ended.
  auto again = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(again.ok());
  CHECK(rec.Wait(*again).status.ok());
}

TEST_CASE("A load that fails halfway returns its memory and tells its requests why", "[engine]") {
  const std::string good = TinyModelDir("fail", 0);
  const std::string bad = TinyModelDir("fail", 1);
  LoadGate gate("bad");
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }});
  REQUIRE(engine->AddModel(good, {.id = "good"}).ok());
  REQUIRE(engine->AddModel(bad, {.id = "bad"}).ok());  // valid when added
  Recorder rec;
  auto warm = engine->Submit({.model = "good", .prompt = "abc", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(warm.ok());
  REQUIRE(rec.Wait(*warm).status.ok());
  const std::uint64_t used_before = engine->Metrics().memory_used_bytes;

  auto doomed = engine->Submit({.model = "bad", .prompt = "abc", .max_tokens = 4}, rec.Callbacks());
  REQUIRE(doomed.ok());
  gate.WaitReached();
  // The file loses its second half while the load is about to read it.
  const std::string weights = bad + "/model.safetensors";
  std::filesystem::resize_file(weights, std::filesystem::file_size(weights) / 2);
  gate.Open();
  const RequestResult r = rec.Wait(*doomed);
  CHECK_FALSE(r.status.ok());
  CHECK(std::string(r.status.message()).find("bad") != std::string::npos);

  // Its memory is back, it is absent, and the other model serves on.
  const MetricsSnapshot m = engine->Metrics();
  CHECK(m.memory_used_bytes == used_before);
  CHECK(m.models[1].load_failures == 1);
  CHECK(engine->ListModels()[1].state == Residency::kAbsent);
  auto after = engine->Submit({.model = "good", .prompt = "abc", .max_tokens = 3}, rec.Callbacks());
  REQUIRE(after.ok());
  CHECK(rec.Wait(*after).status.ok());
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("While one model loads, a resident one keeps serving", "[engine]") {
  LoadGate gate("slow");
  Recorder rec;
  auto engine = MakeEngine({.before_load = [&](const std::string& m) { gate.BeforeLoad(m); }});
  REQUIRE(engine->AddModel(TinyModelDir("overlap", 0), {.id = "fast"}).ok());
  REQUIRE(engine->AddModel(TinyModelDir("overlap", 1), {.id = "slow"}).ok());
  auto warm = engine->Submit({.model = "fast", .prompt = "a", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(warm.ok());
  REQUIRE(rec.Wait(*warm).status.ok());
  auto waiting = engine->Submit({.model = "slow", .prompt = "b", .max_tokens = 2}, rec.Callbacks());
  REQUIRE(waiting.ok());
  gate.WaitReached();  // its load is held here until the other request has been served
  auto served = engine->Submit({.model = "fast", .prompt = "c", .max_tokens = 4}, rec.Callbacks());
  REQUIRE(served.ok());
  CHECK(rec.Wait(*served).status.ok());
  CHECK(engine->ListModels()[1].state == Residency::kLoading);
  gate.Open();
  CHECK(rec.Wait(*waiting).status.ok());
}

}  // namespace
}  // namespace cace
