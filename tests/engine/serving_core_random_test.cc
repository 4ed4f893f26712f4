// The serving core under random event sequences, as a driver with threads would feed it (loads
// failing, requests cancelled while they wait or run, models pinned, unloaded, removed and added):
// after every event its invariants hold, no model is unloaded while it serves or while pinned,
// and at the end every accepted request has ended exactly once.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/policy/policies.h"
#include "lib/engine/serving_core.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// A driver's view of what it was asked to do, and the rules the core must never make it break.
struct CheckingBackend final : ServingBackend {
  std::optional<ModelHandle> loading;
  std::optional<ModelHandle> finishing;  // whose load the driver is reporting (it may be undone)
  std::map<std::uint64_t, ModelHandle> running;  // request id -> model
  std::map<std::uint64_t, int> ended;            // request id -> times ended
  std::set<ModelHandle> pinned;                  // as the test last set it
  std::vector<std::string> violations;

  void StartLoad(ModelHandle m) override {
    if (loading) violations.push_back("a second load while one runs");
    loading = m;
  }
  void Unload(ModelHandle m) override {
    const bool undone_load = finishing == m;  // held more than the room made: never resident
    if (pinned.contains(m) && !undone_load) {
      violations.push_back("pinned model " + std::to_string(m) + " unloaded");
    }
    for (const auto& [id, model] : running) {
      if (model == m) violations.push_back("model " + std::to_string(m) + " unloaded while serving");
    }
  }
  void StartRequest(const CoreRequest& r) override { running[r.id] = r.model; }
  void StopRequest(const CoreRequest& r) override { running.erase(r.id); }
  void RequestEnded(const CoreRequest& r, const absl::Status&) override {
    ++ended[r.id];
    running.erase(r.id);
  }
  Seconds DrainSeconds(ModelHandle) const override { return 1.0; }
  // Prefetches: a driver that can stop a load, or one that cannot (the prefetch then finishes).
  bool can_cancel = true;
  std::uint64_t cached_bytes_seen = 0;  // the most the host cache ever held
  bool CancelLoad(ModelHandle m) override {
    if (loading != m) violations.push_back("cancel of a load not running");
    if (!can_cancel) return false;
    loading.reset();
    return true;
  }
};

// With a host cache (`host_cache` bytes, smaller than the largest model) and prefetch as well.
void RunRandom(std::unique_ptr<EvictionPolicy> policy, std::unique_ptr<LoadScheduler> scheduler,
               std::uint32_t seed, std::uint64_t host_cache = 0, bool prefetch = false) {
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  CheckingBackend backend;
  ServingCore core(10 * kGiB, *policy, *scheduler, backend,
                   CoreOptions{.max_batch = 4, .max_waiting = 40, .max_waiting_per_model = 12,
                               .host_cache_bytes = host_cache, .prefetch = prefetch});
  backend.can_cancel = seed % 2 == 1;
  std::vector<ModelHandle> models;
  int added = 0;
  auto add_model = [&] {
    const std::uint64_t bytes = (1 + pick(4)) * kGiB;
    ModelSpec spec{"m" + std::to_string(added++), {}, WeightFormat::kSimulated, bytes, 1 << 20, 1.0};
    models.push_back(core.AddModel(spec).value());
  };
  for (int i = 0; i < 6; ++i) add_model();

  std::set<std::uint64_t> accepted;
  std::uint64_t next_id = 0;
  Seconds now = 0;
  ModelHandle stepping = kNoModel;  // the model whose step the device runs
  for (int event = 0; event < 4000; ++event) {
    now += 0.1;
    const std::size_t kind = pick(14);
    const ModelHandle model = models[pick(models.size())];
    // With prefetch, fewer arrivals, so that the load path is sometimes idle with room free.
    if (kind <= 3 && (!prefetch || chance(0.2))) {
      const CoreRequest r{next_id++, model, static_cast<TaskKind>(pick(3)), now,
                          static_cast<std::uint32_t>(pick(2000)), static_cast<std::uint32_t>(1 + pick(2000))};
      const absl::Status s = core.Submit(r, now);
      if (s.ok()) accepted.insert(r.id);
    } else if (kind <= 5 && backend.loading) {
      const ModelHandle m = *backend.loading;
      backend.loading.reset();
      backend.finishing = m;
      if (chance(0.15)) {
        REQUIRE(core.OnLoadFailed(m, absl::DataLossError("truncated"), now).ok());
      } else {
        const std::uint64_t measured = chance(0.2) ? (1 + pick(5)) * kGiB : 0;
        REQUIRE(core.OnLoadFinished(m, now, 1.0, measured).ok());
      }
      backend.finishing.reset();
    } else if (kind <= 8) {
      if (stepping == kNoModel) {
        stepping = core.PickModelToStep().value_or(kNoModel);
      } else {
        std::vector<FinishedRequest> finished;
        for (const auto& [id, m] : backend.running) {
          if (m == stepping && chance(0.4)) finished.push_back({id, static_cast<std::uint32_t>(1 + pick(100))});
        }
        REQUIRE(core.OnStepFinished(stepping, finished, now).ok());
        stepping = kNoModel;
      }
    } else if (kind == 9 && !accepted.empty()) {
      auto it = accepted.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(pick(accepted.size())));
      const absl::Status s = core.Cancel(*it, now);
      CHECK((s.ok() || s.code() == absl::StatusCode::kNotFound));  // NotFound: it already ended
    } else if (kind == 10) {
      // An unpinned model may be evicted within the call itself: it leaves the set first.
      const bool pin = chance(0.5);
      const bool was = backend.pinned.erase(model) > 0;
      if (core.SetPinned(model, pin, now).ok() ? pin : was) backend.pinned.insert(model);
    } else if (kind == 11) {
      (void)(chance(0.5) ? core.Preload(model, now) : core.Unload(model, now));
      (void)core.SetKeepAlive(model, chance(0.5) ? std::optional<Seconds>(pick(5)) : std::nullopt);
      (void)core.SetPriority(model, static_cast<int>(pick(3)), now);
    } else if (kind == 12) {
      core.OnTimer(now);
    } else if (kind == 13 && chance(0.3)) {
      if (core.RemoveModel(model, now).ok()) {
        std::erase(models, model);
        backend.pinned.erase(model);
        add_model();
      }
    }
    INFO("event " << event << " kind " << kind);
    const absl::Status invariants = core.CheckInvariants();
    INFO(invariants.message());
    REQUIRE(invariants.ok());
    INFO((backend.violations.empty() ? "" : backend.violations.front()));
    REQUIRE(backend.violations.empty());
    REQUIRE(core.host_cache().used_bytes() <= host_cache);
    backend.cached_bytes_seen = std::max(backend.cached_bytes_seen, core.host_cache().used_bytes());
  }
  if (host_cache > 0) {
    CHECK(backend.cached_bytes_seen > 0);  // the sequence did exercise the cache
    CHECK(core.counters().host_cache_loads > 0);
  }
  if (prefetch) {
    CHECK(core.counters().prefetches > 0);
    CHECK(core.counters().prefetches_used + core.counters().prefetches_cancelled > 0);
  }
  // Cancel whatever is left: then every accepted request has ended, once.
  for (std::uint64_t id : accepted) (void)core.Cancel(id, now);
  REQUIRE(core.CheckInvariants().ok());
  CHECK(core.waiting_requests() == 0);
  CHECK(backend.running.empty());
  for (std::uint64_t id : accepted) {
    INFO("request " << id);
    CHECK(backend.ended[id] == 1);
  }
  CHECK(backend.ended.size() == accepted.size());
}

TEST_CASE("random event sequences keep the core's invariants (LRU, first come first served)") {
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    RunRandom(std::make_unique<LruPolicy>(), std::make_unique<FcfsLoadScheduler>(), seed);
  }
}

TEST_CASE("random event sequences keep the core's invariants (CACE, context-aware loads)") {
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    RunRandom(std::make_unique<CacePolicy>(), std::make_unique<ContextLoadScheduler>(), seed);
  }
}

TEST_CASE("random event sequences keep the invariants with a host cache and prefetch") {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    RunRandom(std::make_unique<LruPolicy>(), std::make_unique<FcfsLoadScheduler>(), seed, 5 * kGiB, true);
    RunRandom(std::make_unique<CacePolicy>(), std::make_unique<ContextLoadScheduler>(), seed, 3 * kGiB, seed > 2);
  }
}

}  // namespace
}  // namespace cace
