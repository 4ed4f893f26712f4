// The serving core's tiers and prefetch: evicted weights kept in the host cache within its
// budget, what the cache drops (the policy's ranking), the reload cost the policy sees per tier,
// per-tier load times, and prefetches that never delay a real request.
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/engine/core_harness.h"

namespace cace {
namespace {

using testing::Harness;
using testing::kGiB;
using testing::Log;

CoreOptions WithHostCache(std::uint64_t bytes, bool prefetch = false) {
  CoreOptions options;
  options.host_cache_bytes = bytes;
  options.prefetch = prefetch;
  return options;
}

// LRU that remembers the candidates of its last decision.
struct RecordingLru final : EvictionPolicy {
  LruPolicy lru;
  std::vector<Candidate> seen;
  std::string_view name() const override { return "recording-lru"; }
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override {
    seen.assign(request.candidates.begin(), request.candidates.end());
    lru.ChooseVictims(request, victims);
  }
};

// Serves one request on `model` from submission to its end (the model loads first when absent).
void Serve(Harness& h, std::uint64_t id, ModelHandle model, Seconds now, Seconds load = 1.0) {
  h.Submit(h.Request(id, model), now);
  if (h.State(model) == ModelState::kLoading) h.Loaded(model, now, load);
  h.Finish(id, 1, now);
}

TEST_CASE("an evicted model moves to the host cache and its reload copies from there") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(2 * kGiB));
  Serve(h, 0, 0, 0.0);
  h.backend.Take();
  Serve(h, 1, 1, 1.0);
  CHECK(h.backend.Take() == Log{"keep 0", "load 1", "start 1@1"});
  CHECK(h.Record(0).in_host_cache);
  CHECK(h.core->TierOf(0) == LoadTier::kHostCache);
  // m1's eviction finds the cache full of m0, which the request waits for: m1 goes to the disk.
  h.Submit(h.Request(2, 0), 2.0);
  CHECK(h.backend.Take() == Log{"unload 1", "load 0 from host-cache"});
  h.Loaded(0, 2.5, 0.25);
  CHECK_FALSE(h.Record(0).in_host_cache);  // the weights moved back to the pool
  CHECK(h.core->host_cache().used_bytes() == 0);
  CHECK(h.core->counters().host_cache_loads == 1);
  CHECK(h.core->counters().host_cache_bytes_loaded == 2 * kGiB);
  CHECK(h.core->counters().host_cache_insertions == 1);
  CHECK(h.core->counters().loads == 3);
  // The host load's time is the cache's measurement; the disk's smoothed figure is untouched.
  CHECK(h.Record(0).load_seconds == 1.0);
  CHECK(h.core->host_cache().LoadSeconds(0, 99.0) == 0.25);
}

TEST_CASE("the host cache never exceeds its budget; what it drops is the policy's choice") {
  Harness h(3 * kGiB, {2 * kGiB, 2 * kGiB, 2 * kGiB, 2 * kGiB, 5 * kGiB / 2}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(4 * kGiB));
  Harness big(4 * kGiB, {3 * kGiB, 2 * kGiB}, std::make_unique<LruPolicy>(),
              std::make_unique<FcfsLoadScheduler>(), WithHostCache(2 * kGiB));
  for (ModelHandle m : {0u, 1u, 2u}) Serve(h, m, m, m);
  CHECK(h.core->host_cache().models() == std::vector<ModelHandle>{0, 1});
  h.backend.Take();
  Serve(h, 3, 3, 3.0);
  // m2 enters; the cache is full, and LRU drops its least recently used model, m0.
  CHECK(h.backend.Take() == Log{"drop 0", "keep 2", "load 3", "start 3@3"});
  CHECK(h.core->host_cache().models() == std::vector<ModelHandle>{1, 2});
  CHECK(h.core->host_cache().used_bytes() == 4 * kGiB);
  CHECK(h.core->counters().host_cache_drops == 1);
  // A 2.5 GiB model: m1 and m2 both leave to make room.
  Serve(h, 4, 4, 4.0);
  CHECK(h.core->host_cache().used_bytes() == 4 * kGiB);
  // A model larger than the whole cache goes back to the disk.
  Serve(big, 0, 0, 0.0);
  Serve(big, 1, 1, 1.0);
  CHECK_FALSE(big.Record(0).in_host_cache);
  CHECK(big.core->counters().host_cache_insertions == 0);
}

TEST_CASE("the reload cost the policy sees is that of the tier an eviction sends the model to") {
  for (std::uint64_t cache : {std::uint64_t{0}, 1 * kGiB, 4 * kGiB}) {
    auto policy = std::make_unique<RecordingLru>();
    RecordingLru* seen = policy.get();
    Harness h(5 * kGiB, {}, std::move(policy), std::make_unique<FcfsLoadScheduler>(), WithHostCache(cache));
    for (int i = 0; i < 3; ++i) {
      ModelSpec spec{"m" + std::to_string(i), {}, WeightFormat::kSimulated, 2 * kGiB, 1, 10.0, 2.0};
      REQUIRE(h.core->AddModel(spec).ok());
    }
    Serve(h, 0, 0, 0.0, 10.0);
    Serve(h, 1, 1, 1.0, 10.0);
    Serve(h, 2, 2, 2.0, 10.0);  // evicts m0
    INFO("host cache " << cache);
    for (const Candidate& c : seen->seen) UNSCOPED_INFO("candidate " << c.model << " " << c.load_seconds);
    REQUIRE(seen->seen.size() == 2);
    // A 2 GiB model fits a 4 GiB cache: it would come back in 2 s, not 10.
    CHECK(seen->seen[0].load_seconds == (cache >= 2 * kGiB ? 2.0 : 10.0));
  }
}

TEST_CASE("the load scheduler sees the tier a waiting model would load from") {
  Harness h(3 * kGiB, {}, std::make_unique<LruPolicy>(), std::make_unique<FcfsLoadScheduler>(),
            WithHostCache(2 * kGiB));
  for (int i = 0; i < 2; ++i) {
    ModelSpec spec{"m" + std::to_string(i), {}, WeightFormat::kSimulated, 2 * kGiB, 1, 10.0, 2.0};
    REQUIRE(h.core->AddModel(spec).ok());
  }
  Serve(h, 0, 0, 0.0, 10.0);
  Serve(h, 1, 1, 1.0, 10.0);  // m0 to the cache
  h.Submit(h.Request(2, 0), 2.0);
  CHECK(h.backend.Take().back() == "load 0 from host-cache");
  h.Loaded(0, 3.0, 1.5);  // measured from the cache: 1.5 s
  h.Finish(2, 1, 3.0);
  Serve(h, 3, 1, 4.0, 10.0);  // m0 back to the cache
  CHECK(h.core->TierOf(0) == LoadTier::kHostCache);
  CHECK(h.core->host_cache().LoadSeconds(0, 2.0) == 1.5);
}

// Memory 4 GiB, three 1 GiB models. m1's request reserves 2.5 GiB of KV, which evicts m0; when it
// ends, 3 GiB are free and the load path is idle: m0 is prefetched.
void PrefetchM0(Harness& h) {
  Serve(h, 0, 0, 0.0);
  h.Submit(h.Request(1, 1, TaskKind::kChat, 5 * kGiB / 2), 1.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "unload 0", "load 1"});
  h.Loaded(1, 1.5, 0.5);
  h.Finish(1, 1, 2.0);
  CHECK(h.backend.Take() == Log{"start 1@1", "load 0"});
  CHECK(h.core->counters().prefetches == 1);
}

TEST_CASE("an evicted model is prefetched into free room; used when its request comes") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(0, true));
  PrefetchM0(h);
  h.Submit(h.Request(2, 0), 2.1);  // waits for the prefetch, which goes on
  CHECK(h.backend.Take().empty());
  h.Loaded(0, 2.5, 0.5);
  CHECK(h.backend.Take() == Log{"start 2@0"});
  CHECK(h.core->counters().prefetches_used == 1);
  CHECK(h.core->counters().prefetches_cancelled == 0);
}

TEST_CASE("a real load preempts a prefetch of another model") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(0, true));
  PrefetchM0(h);
  h.Submit(h.Request(2, 2), 2.1);
  CHECK(h.backend.Take() == Log{"cancel 0", "load 2"});  // at once, in the same call
  CHECK(h.State(0) == ModelState::kAbsent);
  CHECK(h.core->counters().prefetches_cancelled == 1);
  h.Loaded(2, 2.5, 0.4);
  h.Finish(2, 1, 2.6);
  // The load path idle again, m0 comes back.
  CHECK(h.backend.Take() == Log{"start 2@2", "load 0"});
  CHECK(h.core->counters().prefetches == 2);
}

TEST_CASE("a request's KV room is never held by a prefetch") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(0, true));
  PrefetchM0(h);
  // m1 is resident; 2.5 GiB of KV fits only without the prefetch's 1 GiB.
  h.Submit(h.Request(2, 1, TaskKind::kChat, 5 * kGiB / 2), 2.1);
  CHECK(h.backend.Take() == Log{"cancel 0", "start 2@1"});
}

TEST_CASE("a backend that cannot stop a load lets the prefetch finish first") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(0, true));
  h.backend.cancel_loads = false;
  PrefetchM0(h);
  h.Submit(h.Request(2, 2), 2.1);
  CHECK(h.backend.Take() == Log{"cancel 0 refused"});
  h.Loaded(0, 2.5, 0.5);
  CHECK(h.backend.Take() == Log{"load 2"});
}

TEST_CASE("a prefetched model evicted unused is not prefetched again; keep-alive unloads never are") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB}, std::make_unique<LruPolicy>(),
            std::make_unique<FcfsLoadScheduler>(), WithHostCache(0, true));
  PrefetchM0(h);
  h.Loaded(0, 2.5, 0.5);
  CHECK(h.core->counters().prefetches_used == 0);
  REQUIRE(h.core->Unload(0, 3.0).ok());
  CHECK(h.backend.Take() == Log{"unload 0"});
  REQUIRE(h.core->SetKeepAlive(1, 1.0).ok());
  h.core->OnTimer(10.0);
  CHECK(h.backend.Take() == Log{"unload 1"});
  CHECK(h.core->counters().prefetches == 1);
}

TEST_CASE("without prefetch the idle load path stays idle") {
  Harness h(4 * kGiB, {kGiB, kGiB, kGiB});
  Serve(h, 0, 0, 0.0);
  h.Submit(h.Request(1, 1, TaskKind::kChat, 5 * kGiB / 2), 1.0);
  h.Loaded(1, 1.5, 0.5);
  h.Finish(1, 1, 2.0);
  CHECK(h.backend.Take() == Log{"load 0", "start 0@0", "unload 0", "load 1", "start 1@1"});
  CHECK(h.core->counters().prefetches == 0);
}

TEST_CASE("the oracle prefetches the model needed soonest, none that is never needed again") {
  OraclePolicy oracle({0, 1, 2, 1, 0});
  oracle.OnAccess(AccessEvent{0, TaskKind::kCompletion, 0.0});
  const std::vector<Candidate> both = {Candidate{0, 1, 0, 1, 0, 0}, Candidate{2, 1, 0, 1, 0, 0}};
  CHECK(oracle.PickPrefetch(both, 0.0) == std::optional<ModelHandle>(2));
  oracle.OnAccess(AccessEvent{1, TaskKind::kCompletion, 1.0});
  oracle.OnAccess(AccessEvent{2, TaskKind::kCompletion, 2.0});
  CHECK(oracle.PickPrefetch(both, 2.0) == std::optional<ModelHandle>(0));
  CHECK_FALSE(oracle.PickPrefetch(std::vector<Candidate>{Candidate{2, 1, 0, 1, 0, 0}}, 2.0).has_value());
  // The default: the most recently used.
  LruPolicy lru;
  CHECK(lru.PickPrefetch(std::vector<Candidate>{Candidate{0, 1, 5.0, 1, 0, 0}, Candidate{1, 1, 7.0, 1, 0, 0}}, 8.0) ==
        std::optional<ModelHandle>(1));
}

}  // namespace
}  // namespace cace
