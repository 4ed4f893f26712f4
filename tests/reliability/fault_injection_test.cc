// One test per fault of issue 13, each injected through the library's seams (lib/faults/) into a
// real Engine on tiny models: a read error and a truncation in the middle of a load, a failed
// allocation (weights, KV cache), a host token callback that returns an error or is slow,
// cancellation at every stage, the Engine destroyed while requests run and a load is in flight.
// After each: the pool holds what it held before (plus what the surviving state explains), the
// core's invariants held after every scheduler task, the other model still serves, the failed
// request was told why.
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/reliability/fault_harness.h"

namespace cace {
namespace {

using testing::ExpectServes;
using testing::FaultHarness;
using testing::Recorder;
using testing::TinyModelDir;

bool Contains(const absl::Status& s, const std::string& what) {
  return std::string(s.message()).find(what) != std::string::npos;
}

// The pool holds exactly the weights of the resident models, and the registry counts what the
// pool holds.
void ExpectPoolMatchesResidents(Engine& engine, FaultHarness& h) {
  std::uint64_t resident = 0;
  for (const ResidencyEntry& e : engine.ListModels()) {
    if (e.state == Residency::kResident) resident += e.weight_bytes;
    CHECK(e.in_flight == 0);
    CHECK(e.kv_reserved_bytes == 0);
    CHECK(e.kv_allocated_bytes == 0);
  }
  CHECK(h.PoolUsed() == resident);
  CHECK(engine.Metrics().memory_used_bytes == h.PoolUsed());
}

TEST_CASE("A read error or a truncation in the middle of a load", "[reliability]") {
  const ReadFault::Kind kind = GENERATE(ReadFault::Kind::kError, ReadFault::Kind::kEndOfFile);
  const std::string good = TinyModelDir("rf_good", 0), bad = TinyModelDir("rf_bad", 1);
  FaultHarness h;
  auto engine = h.MakeEngine({});
  REQUIRE(engine->AddModel(good, {.id = "good"}).ok());
  REQUIRE(engine->AddModel(bad, {.id = "bad"}).ok());
  Recorder rec;
  ExpectServes(*engine, rec, "good");
  const std::uint64_t used_before = h.PoolUsed(), allocations_before = h.PoolAllocations();

  // The third read of the bad model's weights fails: two tensors are already in the pool.
  std::atomic<int> reads{0};
  h.SetReadFault([&](const std::string& path, std::uint64_t, std::size_t) {
    if (path.find(bad) == std::string::npos) return ReadFault{};
    return ++reads == 3 ? ReadFault{.kind = kind} : ReadFault{};
  });
  auto doomed = engine->Submit({.model = "bad", .prompt = "abc", .max_tokens = 4}, rec.Callbacks());
  REQUIRE(doomed.ok());
  const RequestResult r = rec.Wait(*doomed);
  engine->WaitIdle();
  CHECK(r.status.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(r.status, "loading model 'bad'"));
  CHECK(Contains(r.status, kind == ReadFault::Kind::kError ? "injected read error" : "end of file"));
  CHECK(h.ReadFaults() == 1);
  CHECK(reads.load() >= 3);

  CHECK(h.PoolUsed() == used_before);
  CHECK(h.PoolAllocations() == allocations_before);
  CHECK(engine->Metrics().models[1].load_failures == 1);
  CHECK(engine->ListModels()[1].state == Residency::kAbsent);
  ExpectServes(*engine, rec, "good");
  // Once the disk behaves, the same model loads and serves.
  h.SetReadFault({});
  ExpectServes(*engine, rec, "bad");
  ExpectPoolMatchesResidents(*engine, h);
  CHECK(h.Broken().empty());
}

TEST_CASE("An allocation that fails: the weights of a load, the KV cache of a request", "[reliability]") {
  const std::string good = TinyModelDir("af_good", 0), bad = TinyModelDir("af_bad", 1);
  FaultHarness h;
  auto engine = h.MakeEngine({});
  REQUIRE(engine->AddModel(good, {.id = "good"}).ok());
  REQUIRE(engine->AddModel(bad, {.id = "bad"}).ok());
  Recorder rec;
  ExpectServes(*engine, rec, "good");
  const std::uint64_t used_before = h.PoolUsed();

  SECTION("the weights") {
    h.SetAllocationFault([](std::uint64_t, std::string_view owner) { return owner == "bad"; });
    auto doomed = engine->Submit({.model = "bad", .prompt = "abc", .max_tokens = 4}, rec.Callbacks());
    REQUIRE(doomed.ok());
    const RequestResult r = rec.Wait(*doomed);
    engine->WaitIdle();
    CHECK(r.status.code() == absl::StatusCode::kResourceExhausted);
    CHECK(Contains(r.status, "loading model 'bad'"));
    CHECK(Contains(r.status, "injected allocation failure"));
    CHECK(engine->Metrics().models[1].load_failures == 1);
    CHECK(engine->ListModels()[1].state == Residency::kAbsent);
  }
  SECTION("the KV cache of a request on a resident model") {
    h.SetAllocationFault([](std::uint64_t, std::string_view owner) { return owner == "kv:good"; });
    auto doomed = engine->Submit({.model = "good", .prompt = "abc", .max_tokens = 4}, rec.Callbacks());
    REQUIRE(doomed.ok());
    const RequestResult r = rec.Wait(*doomed);
    engine->WaitIdle();
    CHECK(r.status.code() == absl::StatusCode::kResourceExhausted);
    CHECK(Contains(r.status, "injected allocation failure"));
    CHECK(rec.Get(*doomed).tokens.empty());
  }
  CHECK(h.AllocationFaults() >= 1);
  CHECK(h.PoolUsed() == used_before);
  h.SetAllocationFault({});
  ExpectServes(*engine, rec, "good");
  ExpectServes(*engine, rec, "bad");
  ExpectPoolMatchesResidents(*engine, h);
  CHECK(h.Broken().empty());
}

// A host whose sink fails returns an error from its token callback: that request ends with the
// error, its batch neighbour runs on as if alone. A slow callback holds up its batch and no more:
// deadlines still end its request, the batch's other request runs to its end.
TEST_CASE("A host token callback that fails or is slow", "[reliability]") {
  FaultHarness h;
  auto engine = h.MakeEngine({});
  REQUIRE(engine->AddModel(TinyModelDir("cb", 0), {.id = "m"}).ok());
  Recorder rec;
  ExpectServes(*engine, rec, "m");
  const Request neighbour_request{.model = "m", .prompt = "abd", .max_tokens = 12};
  auto alone = engine->Submit(neighbour_request, rec.Callbacks());
  REQUIRE(alone.ok());
  REQUIRE(rec.Wait(*alone).status.ok());
  const std::uint64_t used_before = h.PoolUsed();

  // The callback refuses its `refuse_at`-th piece with `error`; no piece is recorded after that.
  auto refusing = [&rec](int refuse_at, absl::Status error, std::atomic<int>& calls) {
    RequestCallbacks callbacks = rec.Callbacks();
    callbacks.on_token = [&calls, refuse_at, error, record = callbacks.on_token](const TokenPiece& p) {
      if (++calls == refuse_at) return error;
      return record(p);
    };
    return callbacks;
  };

  SECTION("fails at its second token: that request ends with the error, its neighbour finishes") {
    std::atomic<int> calls{0};
    auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 40},
                             refusing(2, absl::DataLossError("the host's sink failed"), calls));
    auto neighbour = engine->Submit(neighbour_request, rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(neighbour.ok());
    const RequestResult r = rec.Wait(*id);
    CHECK(r.status.code() == absl::StatusCode::kDataLoss);
    CHECK(r.status.message() == "the host's sink failed");
    CHECK(r.reason == EndReason::kError);
    CHECK(rec.Get(*id).tokens.size() == 1);
    CHECK(rec.Get(*id).results.size() == 1);
    const RequestResult n = rec.Wait(*neighbour);
    CHECK(n.status.ok());
    CHECK(rec.Get(*neighbour).tokens == rec.Get(*alone).tokens);  // greedy: what it gives alone
    engine->WaitIdle();
    CHECK(calls.load() == 2);  // nothing streamed after the refusal
  }
  SECTION("refuses the piece that ends the request: the refusal, not the end, is its result") {
    std::atomic<int> calls{0};
    auto id = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 3},
                             refusing(3, absl::CancelledError("the host hung up"), calls));
    REQUIRE(id.ok());
    const RequestResult r = rec.Wait(*id);
    CHECK(r.status.code() == absl::StatusCode::kCancelled);
    CHECK(r.reason == EndReason::kCancelled);
    CHECK(rec.Get(*id).results.size() == 1);
    CHECK(calls.load() == 3);
  }
  SECTION("is slow: its deadline ends it; its batch neighbour finishes") {
    RequestCallbacks slow = rec.Callbacks();
    auto record = slow.on_token;
    slow.on_token = [record](const TokenPiece& p) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      return record(p);
    };
    auto late = engine->Submit({.model = "m", .prompt = "abc", .max_tokens = 60, .deadline_seconds = 0.2}, slow);
    auto neighbour = engine->Submit({.model = "m", .prompt = "abd", .max_tokens = 6}, rec.Callbacks());
    REQUIRE(late.ok());
    REQUIRE(neighbour.ok());
    const RequestResult r = rec.Wait(*late);
    CHECK(r.status.code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(r.usage.completion_tokens < 60);
    CHECK(rec.Wait(*neighbour).status.ok());
  }
  engine->WaitIdle();
  CHECK(h.PoolUsed() == used_before);  // the failed request's KV cache is back in the pool
  ExpectPoolMatchesResidents(*engine, h);
  ExpectServes(*engine, rec, "m");
  CHECK(h.Broken().empty());
}

TEST_CASE("Cancellation at every stage returns what the request held", "[reliability]") {
  enum Stage { kLoadStarting, kDuringTheRead, kPrefill, kDecode };
  const Stage stage = GENERATE(kLoadStarting, kDuringTheRead, kPrefill, kDecode);
  CAPTURE(stage);
  const std::string other = TinyModelDir("cs_other", 0), target = TinyModelDir("cs_target", 1);
  std::atomic<RequestId> victim{0};
  Engine* e = nullptr;
  std::promise<void> load_reached;
  std::atomic<bool> load_seen{false};
  EngineHooks hooks;
  hooks.before_load = [&](const std::string& model) {
    if (stage == kLoadStarting && model == "target" && !load_seen.exchange(true)) {
      e->Cancel(victim.load());  // its load started and has not read a byte yet
    }
  };
  hooks.before_step = [&](const std::vector<RequestId>&, const std::vector<RequestId>& prefill) {
    for (RequestId id : prefill) {
      if (stage == kPrefill && id == victim.load()) e->Cancel(id);
    }
  };
  FaultHarness h;
  // Reads of the target's weights are slow, so a Cancel lands while they run.
  std::atomic<int> target_reads{0};
  h.SetReadFault([&](const std::string& path, std::uint64_t, std::size_t) {
    if (path.find(target) == std::string::npos) return ReadFault{};
    if (stage == kDuringTheRead && ++target_reads == 2) e->Cancel(victim.load());
    return ReadFault{.delay = std::chrono::microseconds(500)};
  });
  auto engine = h.MakeEngine({}, hooks);
  e = engine.get();
  REQUIRE(engine->AddModel(other, {.id = "other"}).ok());
  REQUIRE(engine->AddModel(target, {.id = "target"}).ok());
  Recorder rec;
  RequestId last = ExpectServes(*engine, rec, "other");
  if (stage == kPrefill || stage == kDecode) last = ExpectServes(*engine, rec, "target");

  RequestCallbacks callbacks = rec.Callbacks();
  auto record = callbacks.on_token;
  callbacks.on_token = [&, record](const TokenPiece& p) {
    const absl::Status recorded = record(p);
    if (stage == kDecode && rec.Get(p.id).tokens.size() == 2) e->Cancel(p.id);
    return recorded;
  };
  // Ids are sequential: the next Submit gets the last one + 1 (set before, so the hooks see it).
  victim = last + 1;
  auto id = engine->Submit({.model = "target", .prompt = "abcdef", .max_tokens = 30}, callbacks);
  REQUIRE(id.ok());
  REQUIRE(*id == victim.load());
  const RequestResult r = rec.Wait(*id);
  engine->WaitIdle();
  CHECK(r.status.code() == absl::StatusCode::kCancelled);
  CHECK(r.reason == EndReason::kCancelled);
  CHECK(rec.Get(*id).tokens.size() == (stage == kDecode ? 2u : 0u));
  CHECK(rec.Get(*id).results.size() == 1);
  // A load that was under way still ends (resident or dropped); wait for it to settle.
  for (int i = 0; i < 2000 && engine->ListModels()[1].state == Residency::kLoading; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ExpectPoolMatchesResidents(*engine, h);
  ExpectServes(*engine, rec, "other");
  ExpectServes(*engine, rec, "target");
  CHECK(h.Broken().empty());
}

TEST_CASE("Destroying the Engine while requests run and a load is in flight", "[reliability]") {
  const std::string resident = TinyModelDir("dd_resident", 0), loading = TinyModelDir("dd_loading", 1);
  Recorder rec;  // outlives the engine: on_done runs during its destruction
  FaultHarness h;
  std::promise<void> read_started;
  std::atomic<bool> started{false};
  h.SetReadFault([&](const std::string& path, std::uint64_t, std::size_t) {
    if (path.find(loading) == std::string::npos) return ReadFault{};
    if (!started.exchange(true)) read_started.set_value();
    return ReadFault{.delay = std::chrono::milliseconds(5)};
  });
  auto engine = h.MakeEngine({.max_batch = 4});
  REQUIRE(engine->AddModel(resident, {.id = "resident"}).ok());
  REQUIRE(engine->AddModel(loading, {.id = "loading"}).ok());
  ExpectServes(*engine, rec, "resident");

  std::promise<void> streaming;
  std::atomic<bool> streamed{false};
  RequestCallbacks callbacks = rec.Callbacks();
  auto record = callbacks.on_token;
  callbacks.on_token = [&, record](const TokenPiece& p) {
    if (!streamed.exchange(true)) streaming.set_value();
    return record(p);
  };
  std::vector<RequestId> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = engine->Submit({.model = "resident", .prompt = "abc", .max_tokens = 200}, callbacks);
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  for (int i = 0; i < 3; ++i) {
    auto id = engine->Submit({.model = "loading", .prompt = "abc", .max_tokens = 20}, rec.Callbacks());
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  streaming.get_future().wait();
  read_started.get_future().wait();
  engine.reset();

  // Every request ended exactly once, and none ran to its end (Cancelled by the destructor).
  for (RequestId id : ids) {
    const auto results = rec.Get(id).results;
    REQUIRE(results.size() == 1);
    CHECK(results[0].status.code() == absl::StatusCode::kCancelled);
  }
  CHECK(h.Broken().empty());
}

}  // namespace
}  // namespace cace
