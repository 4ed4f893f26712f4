// The Engine's tiers, prefetch and state file on tiny models: a reload from the host cache puts in
// the pool byte for byte what a load from disk puts there (and the model answers the same), the
// host cache's bytes stay within its budget and equal to the core's count over random requests,
// a prefetch yields to a real request's load and gives its memory back first, and the state file
// carries what was learned across a restart while a damaged one is refused with a warning.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "lib/engine/state_file.h"
#include "lib/faults/faulty_file_source.h"
#include "lib/pool/host_arena.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/host_model_copy.h"
#include "lib/runtime/model_instance.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Outcome;
using testing::Recorder;
using testing::TinyModelDir;

constexpr std::uint64_t kMiB = 1ull << 20;

std::uint64_t WeightBytes(const std::string& dir) {
  auto footprint = PlanModelInstance(dir, MemoryKind::kHost);
  REQUIRE(footprint.ok());
  return footprint->weight_bytes;
}

// Budget for `models` models' weights plus KV room for 8 requests of 64 tokens.
std::uint64_t BudgetFor(const std::string& dir, double models) {
  auto footprint = PlanModelInstance(dir, MemoryKind::kHost);
  REQUIRE(footprint.ok());
  return static_cast<std::uint64_t>(models * static_cast<double>(footprint->weight_bytes)) +
         8 * 64 * footprint->kv_bytes_per_token;
}

// The bytes of an instance's weight allocation. No Catch2 assertion inside: the engine's hooks
// call it on the scheduler thread, and Catch2's assertions are not thread-safe.
absl::StatusOr<std::vector<std::byte>> ReadPoolBytes(const ModelInstance& instance) {
  auto allocation = instance.pool().Lookup(instance.allocation());
  if (!allocation.ok()) return allocation.status();
  std::vector<std::byte> bytes(allocation->bytes);
  if (absl::Status read = instance.pool().Read(instance.allocation(), 0, bytes.data(), bytes.size()); !read.ok()) {
    return read;
  }
  return bytes;
}

// The same, on the test's own thread.
std::vector<std::byte> PoolBytes(const ModelInstance& instance) {
  absl::StatusOr<std::vector<std::byte>> bytes = ReadPoolBytes(instance);
  REQUIRE(bytes.ok());
  return *std::move(bytes);
}

std::uint64_t Fnv1a(const std::vector<std::byte>& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::byte b : bytes) h = (h ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ull;
  return h;
}

std::vector<std::int32_t> Greedy(const ModelInstance& model, const std::vector<std::int32_t>& prompt, int max_tokens) {
  auto sequence = Sequence::Start(&model.backend(), prompt, {.max_new_tokens = max_tokens});
  REQUIRE(sequence.ok());
  Sequence* s = sequence->get();
  REQUIRE(GenerateAll(model.backend(), {&s, 1}).ok());
  return s->output();
}

TEST_CASE("A host copy loads into the pool byte for byte what the files load; a cancelled copy leaves the pool as it was",
          "[engine][tiers]") {
  const std::string dir = TinyModelDir("tiers_copy", 0);
  auto disk_pool = CreateHostArena(16 * kMiB);
  auto host_pool = CreateHostArena(16 * kMiB);
  REQUIRE(disk_pool.ok());
  REQUIRE(host_pool.ok());
  auto from_disk = LoadModelInstance(dir, **disk_pool, {.cpu = {.threads = 1}});
  REQUIRE(from_disk.ok());
  auto copy = HostModelCopy::From(**from_disk, AllocatePlainHostBuffer);
  REQUIRE(copy.ok());
  CHECK((*copy)->bytes() == (*from_disk)->weight_bytes());

  std::stop_source stop;
  stop.request_stop();
  auto cancelled = (*copy)->Load(**host_pool, {.cancel = stop.get_token()});
  CHECK(absl::IsCancelled(cancelled.status()));
  CHECK((*host_pool)->Stats().used == 0);

  auto from_host = (*copy)->Load(**host_pool, {.cpu = {.threads = 1}});
  REQUIRE(from_host.ok());
  const std::vector<std::byte> disk_bytes = PoolBytes(**from_disk);
  CHECK(PoolBytes(**from_host) == disk_bytes);
  CHECK((*from_host)->weight_bytes() == (*from_disk)->weight_bytes());
  // The copy outlives the instance it came from and loads again.
  from_disk->reset();
  const std::vector<std::int32_t> prompt = {1, 5, 9, 2};
  const std::vector<std::int32_t> expected = Greedy(**from_host, prompt, 8);
  from_host->reset();
  auto again = (*copy)->Load(**host_pool, {.cpu = {.threads = 1}});
  REQUIRE(again.ok());
  CHECK(PoolBytes(**again) == disk_bytes);
  CHECK(Greedy(**again, prompt, 8) == expected);
}

// Records each load's tier and the checksum of the weights it put in the pool; collects broken
// invariants (the core's, and the host cache's bytes against its count).
struct TierWatch {
  std::mutex mu;
  std::vector<std::string> broken;
  std::vector<std::pair<LoadTier, std::uint64_t>> loads;  // of `watched`
  std::string watched;
  EngineHooks Hooks() {
    EngineHooks hooks;
    hooks.on_invariants = [this](const absl::Status& st) {
      if (st.ok()) return;
      std::lock_guard<std::mutex> lock(mu);
      broken.push_back(std::string(st.message()));
    };
    hooks.on_loaded = [this](const std::string& model, LoadTier tier, const ModelInstance& instance) {
      if (model != watched) return;
      absl::StatusOr<std::vector<std::byte>> bytes = ReadPoolBytes(instance);
      std::lock_guard<std::mutex> lock(mu);
      if (!bytes.ok()) {
        broken.push_back("reading the loaded weights: " + std::string(bytes.status().message()));
        return;
      }
      loads.emplace_back(tier, Fnv1a(*bytes));
    };
    return hooks;
  }
};

TEST_CASE("A reload from the host cache holds the same weights and answers the same as the load from disk",
          "[engine][tiers]") {
  const std::string a = TinyModelDir("tiers_reload", 0);
  const std::string b = TinyModelDir("tiers_reload", 1);
  TierWatch watch;
  watch.watched = "a";
  // Memory for one model at a time; a host cache for both.
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1,
                                   .host_cache_bytes = 2 * WeightBytes(a)},
                                  watch.Hooks());
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(a, {.id = "a"}).ok());
  REQUIRE(engine->AddModel(b, {.id = "b"}).ok());

  Recorder rec;
  auto ask = [&](const std::string& model) {
    auto id = engine->Submit({.model = model, .prompt = "def add(a, b):", .max_tokens = 10}, rec.Callbacks());
    REQUIRE(id.ok());
    const RequestResult r = rec.Wait(*id);
    REQUIRE(r.status.ok());
    return rec.Get(*id).tokens;
  };
  auto state_of = [&](const std::string& model) {
    for (const ResidencyEntry& e : engine->ListModels()) {
      if (e.model == model) return e.state;
    }
    FAIL("no model " << model);
    return Residency::kAbsent;
  };
  CHECK(state_of("b") == Residency::kAbsent);          // never loaded: on disk only
  const std::vector<std::int32_t> first = ask("a");   // from disk
  ask("b");                                            // evicts a into the host cache
  CHECK(state_of("a") == Residency::kHostCache);
  CHECK(state_of("b") == Residency::kResident);
  const std::vector<std::int32_t> second = ask("a");  // from the host cache; b goes there
  CHECK(second == first);
  CHECK(state_of("a") == Residency::kResident);
  CHECK(state_of("b") == Residency::kHostCache);
  const std::string listing = ResidencyListing(engine->ListModels());
  INFO(listing);
  CHECK(listing.find("host-cache") != std::string::npos);

  // The weights in the pool after each load, and those a plain load of the files gives.
  auto pool = CreateHostArena(16 * kMiB);
  REQUIRE(pool.ok());
  auto direct = LoadModelInstance(a, **pool, {.cpu = {.threads = 1}});
  REQUIRE(direct.ok());
  {
    std::lock_guard<std::mutex> lock(watch.mu);
    REQUIRE(watch.loads.size() == 2);
    CHECK(watch.loads[0].first == LoadTier::kDisk);
    CHECK(watch.loads[1].first == LoadTier::kHostCache);
    CHECK(watch.loads[0].second == Fnv1a(PoolBytes(**direct)));
    CHECK(watch.loads[1].second == watch.loads[0].second);
    CHECK(watch.broken.empty());
  }

  const MetricsSnapshot m = engine->Metrics();
  REQUIRE(m.models.size() == 2);
  const ModelMetrics& ma = m.models[0];
  CHECK(ma.from_disk.loads == 1);
  CHECK(ma.from_host_cache.loads == 1);
  CHECK(ma.from_host_cache.bytes == ma.from_disk.bytes);
  CHECK(ma.loads == 2);
  CHECK(ma.bytes_loaded == 2 * ma.from_disk.bytes);
  CHECK(ma.host_cache_bytes == 0);  // back in the pool
  CHECK(m.models[1].host_cache_bytes == m.models[1].from_disk.bytes);  // b, evicted into the cache
  CHECK(m.host_cache_used_bytes == m.models[1].host_cache_bytes);
  CHECK(m.host_cache_budget_bytes == 2 * WeightBytes(a));
  const std::string text = engine->PrometheusMetrics();
  CHECK(text.find("cace_model_tier_loads_total{model=\"a\",tier=\"host-cache\"} 1\n") != std::string::npos);
  CHECK(text.find("cace_model_tier_loads_total{model=\"a\",tier=\"disk\"} 1\n") != std::string::npos);
  CHECK(text.find("cace_host_cache_used_bytes " + std::to_string(m.host_cache_used_bytes) + "\n") != std::string::npos);
}

TEST_CASE("Over random requests to four models the host cache stays within its budget and holds what the core counts",
          "[engine][tiers]") {
  constexpr int kModels = 4, kRequests = 240;
  const bool prefetch = GENERATE(false, true);
  INFO("prefetch " << prefetch);
  std::vector<std::string> dirs;
  for (int i = 0; i < kModels; ++i) dirs.push_back(TinyModelDir("tiers_random", i));
  const std::vector<std::string> prompts = {"def add(a, b):", "hello world"};
  // What each model answers, from the engine with memory for every model (no reload at all).
  std::vector<std::vector<std::int32_t>> expected(kModels * prompts.size());
  {
    auto roomy = Engine::Create({.memory_budget_bytes = BudgetFor(dirs[0], kModels + 1), .compute_threads = 1});
    REQUIRE(roomy.ok());
    Recorder rec;
    for (int i = 0; i < kModels; ++i) REQUIRE((*roomy)->AddModel(dirs[i], {.id = "m" + std::to_string(i)}).ok());
    for (int i = 0; i < kModels; ++i) {
      for (std::size_t p = 0; p < prompts.size(); ++p) {
        auto id = (*roomy)->Submit({.model = "m" + std::to_string(i), .prompt = prompts[p], .max_tokens = 4},
                                   rec.Callbacks());
        REQUIRE(id.ok());
        REQUIRE(rec.Wait(*id).status.ok());
        expected[i * prompts.size() + p] = rec.Get(*id).tokens;
      }
    }
  }

  TierWatch watch;
  // Memory for two models, a host cache for one and a half: every eviction into a full cache makes
  // the policy drop a cached model. With prefetch, models idle for 2 ms are unloaded, so room
  // comes free with the load path idle and evicted models are prefetched (and cancelled).
  const std::uint64_t cache = WeightBytes(dirs[0]) * 3 / 2;
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(dirs[0], 2.3), .max_pending_requests = 4096,
                                   .max_batch = 4, .compute_threads = 1,
                                   .default_keep_alive_seconds = prefetch ? 0.002 : -1, .host_cache_bytes = cache,
                                   .prefetch = prefetch},
                                  watch.Hooks());
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  for (int i = 0; i < kModels; ++i) REQUIRE(engine->AddModel(dirs[i], {.id = "m" + std::to_string(i)}).ok());

  std::mt19937 rng(7);
  Recorder rec;
  std::vector<std::pair<RequestId, std::size_t>> asked;  // id, index into expected
  std::uint64_t peak_cache = 0;
  for (int i = 0; i < kRequests; ++i) {
    const int model = static_cast<int>(rng() % kModels);
    const std::size_t prompt = rng() % prompts.size();
    auto id = engine->Submit({.model = "m" + std::to_string(model), .prompt = prompts[prompt], .max_tokens = 4},
                             rec.Callbacks());
    REQUIRE(id.ok());
    asked.emplace_back(*id, model * prompts.size() + prompt);
    if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3));
    if (rng() % 16 == 0) engine->WaitIdle();  // lets loads, evictions and prefetches interleave differently
    if (i % 8 == 0) {
      const MetricsSnapshot m = engine->Metrics();
      CHECK(m.host_cache_used_bytes <= cache);
      peak_cache = std::max(peak_cache, m.host_cache_used_bytes);
    }
  }
  engine->WaitIdle();
  for (const auto& [id, index] : asked) {
    const Outcome outcome = rec.Get(id);
    REQUIRE(outcome.results.size() == 1);
    CHECK(outcome.results[0].status.ok());
    CHECK(outcome.tokens == expected[index]);
  }
  std::lock_guard<std::mutex> lock(watch.mu);
  CHECK(watch.broken.empty());
  if (!watch.broken.empty()) FAIL_CHECK(watch.broken.front());
  const MetricsSnapshot m = engine->Metrics();
  std::uint64_t cache_loads = 0;
  for (const ModelMetrics& model : m.models) cache_loads += model.from_host_cache.loads;
  CHECK(cache_loads > 0);  // the cache served reloads
  CHECK(peak_cache > 0);
  std::uint64_t evictions = 0;
  for (const ModelMetrics& model : m.models) evictions += model.evictions;
  INFO("evictions " << evictions << ", host-cache loads " << cache_loads << ", prefetches " << m.prefetches << " ("
                    << m.prefetches_used << " used, " << m.prefetches_cancelled << " cancelled)");
  CHECK(evictions > 20);
  CHECK((m.prefetches > 0) == prefetch);
}

// A prefetch of `a` reading slowly from disk (`kReadDelay` per tensor read) when a request for `b`
// arrives: the prefetch is cancelled, its memory is back in the pool before b's load starts, and
// that load starts after about one read's delay (the loader checks between reads), not after the
// rest of the prefetch (tens of reads).
TEST_CASE("A prefetch yields to a real request's load and returns its memory first", "[engine][tiers]") {
  constexpr auto kReadDelay = std::chrono::milliseconds(150);
  const std::string a = TinyModelDir("tiers_prefetch", 0);
  const std::string b = TinyModelDir("tiers_prefetch", 1);
  const std::string c = TinyModelDir("tiers_prefetch", 2);
  std::atomic<bool> slow_a{false};
  std::atomic<int> slow_reads{0};
  FaultyFileSource files(PosixFileSource(), [&](const std::string& path, std::uint64_t, std::size_t) {
    ReadFault fault;
    if (slow_a.load() && path.starts_with(a)) {
      ++slow_reads;
      fault.delay = kReadDelay;
    }
    return fault;
  });
  MemoryPool* pool = nullptr;
  std::atomic<bool> watch_b{false};
  std::mutex mu;
  std::vector<std::string> owners_at_b_load;  // the pool's allocations when b's reload began
  std::chrono::steady_clock::time_point b_load_began;
  EngineHooks hooks;
  hooks.files = &files;
  hooks.wrap_pool = [&](std::unique_ptr<MemoryPool> p) {
    pool = p.get();
    return p;
  };
  hooks.before_load = [&](const std::string& model) {
    if (model != "b" || !watch_b.load()) return;
    std::lock_guard<std::mutex> lock(mu);
    b_load_began = std::chrono::steady_clock::now();
    for (const Allocation& al : pool->Allocations()) owners_at_b_load.push_back(al.owner);
  };
  auto made = CreateEngineForTest({.memory_budget_bytes = BudgetFor(a, 2.3), .policy = "lru", .compute_threads = 1,
                                   .prefetch = true},
                                  std::move(hooks));
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(a, {.id = "a"}).ok());
  REQUIRE(engine->AddModel(b, {.id = "b"}).ok());
  REQUIRE(engine->AddModel(c, {.id = "c"}).ok());
  Recorder rec;
  auto ask = [&](const std::string& model) {
    auto id = engine->Submit({.model = model, .prompt = "hello world", .max_tokens = 3}, rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(rec.Wait(*id).status.ok());
  };
  ask("a");
  ask("b");
  ask("c");  // evicts a, the least recently used, for room: a may be prefetched later
  slow_a = true;
  // Unloading b frees room while the load path is idle: the core prefetches a, which reads slowly.
  REQUIRE(engine->Unload("b").ok());
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (slow_reads.load() < 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(slow_reads.load() >= 2);  // the prefetch holds its allocation and is reading
  REQUIRE(engine->Metrics().prefetches == 1);

  watch_b = true;
  const auto asked = std::chrono::steady_clock::now();
  auto id = engine->Submit({.model = "b", .prompt = "hello world", .max_tokens = 3}, rec.Callbacks());
  REQUIRE(id.ok());
  REQUIRE(rec.Wait(*id).status.ok());
  const int reads_of_prefetch = slow_reads.load();
  slow_a = false;
  const MetricsSnapshot m = engine->Metrics();
  CHECK(m.prefetches_cancelled == 1);
  CHECK(m.prefetches_used == 0);
  CHECK(m.models[0].loads == 1);  // a's prefetch never finished
  CHECK(m.models[1].loads == 2);
  std::lock_guard<std::mutex> lock(mu);
  // Nothing of a was left in the pool when b's load began.
  for (const std::string& owner : owners_at_b_load) CHECK((owner != "a" && owner != "kv:a"));
  CHECK(owners_at_b_load.size() >= 1);  // c's weights
  // The prefetch read a tensor or two more, of the 21 the whole model takes; b waited for the
  // read under way (150 ms), not for the rest of the prefetch (about 3 s).
  CHECK(reads_of_prefetch <= 4);
  const double waited = std::chrono::duration<double>(b_load_began - asked).count();
  INFO("b's load began " << waited << " s after its request");
  CHECK(waited < 1.5);
}

// After a cancelled prefetch the load path is idle again: with room, the model is prefetched once
// more, and a request that then finds it resident counts the prefetch as used.
TEST_CASE("A finished prefetch serves the next request without a load, and counts as used", "[engine][tiers]") {
  const std::string a = TinyModelDir("tiers_prefetch", 0);
  const std::string b = TinyModelDir("tiers_prefetch", 1);
  const std::string c = TinyModelDir("tiers_prefetch", 2);
  auto made = Engine::Create({.memory_budget_bytes = BudgetFor(a, 2.3), .policy = "lru", .compute_threads = 1,
                              .prefetch = true});
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  REQUIRE(engine->AddModel(a, {.id = "a"}).ok());
  REQUIRE(engine->AddModel(b, {.id = "b"}).ok());
  REQUIRE(engine->AddModel(c, {.id = "c"}).ok());
  Recorder rec;
  auto ask = [&](const std::string& model) {
    auto id = engine->Submit({.model = model, .prompt = "hello world", .max_tokens = 3}, rec.Callbacks());
    REQUIRE(id.ok());
    const RequestResult r = rec.Wait(*id);
    REQUIRE(r.status.ok());
    return r;
  };
  ask("a");
  ask("b");
  ask("c");  // evicts a for room
  REQUIRE(engine->Unload("b").ok());  // room, the load path idle: a is prefetched
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto a_resident = [&] {
    for (const ResidencyEntry& e : engine->ListModels()) {
      if (e.model == "a") return e.state == Residency::kResident;
    }
    return false;
  };
  while (!a_resident() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(a_resident());
  const RequestResult r = ask("a");
  CHECK(r.timings.waited_for_load == 0);  // it found a resident
  const MetricsSnapshot m = engine->Metrics();
  CHECK(m.prefetches == 1);
  CHECK(m.prefetches_used == 1);
  CHECK(m.prefetches_cancelled == 0);
  CHECK(m.models[0].loads == 2);
  const std::string text = engine->PrometheusMetrics();
  CHECK(text.find("cace_prefetches_used_total 1\n") != std::string::npos);
}

std::string StatePath(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("cace_engine_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::filesystem::remove(path);
  return path;
}

const LearnedModel* Named(const LearnedState& state, const std::string& name) {
  for (const LearnedModel& m : state.models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

TEST_CASE("The state file carries what the engine learned across a restart", "[engine][tiers][state]") {
  const std::string a = TinyModelDir("tiers_state", 0);
  const std::string b = TinyModelDir("tiers_state", 1);
  const std::string path = StatePath("restart.state");
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  {
    auto engine = Engine::Create({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1,
                                  .host_cache_bytes = 2 * WeightBytes(a), .state_file = path, .on_warning = warn});
    REQUIRE(engine.ok());
    REQUIRE((*engine)->AddModel(a, {.id = "a"}).ok());
    REQUIRE((*engine)->AddModel(b, {.id = "b"}).ok());
    Recorder rec;
    for (const char* model : {"a", "b", "a", "a"}) {  // a: from disk, then from the host cache
      auto id = (*engine)->Submit({.model = model, .prompt = "def add(a, b):", .max_tokens = 4}, rec.Callbacks());
      REQUIRE(id.ok());
      REQUIRE(rec.Wait(*id).status.ok());
    }
  }  // written at destruction
  auto first = ReadStateFile(path);
  REQUIRE(first.ok());
  const LearnedModel* a1 = Named(*first, "a");
  REQUIRE(a1 != nullptr);
  REQUIRE(Named(*first, "b") != nullptr);
  CHECK(a1->disk_load_samples == 1);
  CHECK(a1->host_cache_load_samples == 1);
  CHECK(a1->usage.window_counts[KindIndex(TaskKind::kCompletion)] +
            a1->usage.window_counts[KindIndex(TaskKind::kChat)] == 3);
  REQUIRE(first->load_profiles.size() == 2);

  {
    // A second run adds only a: what it learned before is restored, b's is carried forward.
    auto engine = Engine::Create({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1,
                                  .host_cache_bytes = 2 * WeightBytes(a), .state_file = path, .on_warning = warn});
    REQUIRE(engine.ok());
    REQUIRE((*engine)->AddModel(a, {.id = "a"}).ok());
    REQUIRE((*engine)->SaveState().ok());
    auto second = ReadStateFile(path);
    REQUIRE(second.ok());
    const LearnedModel* a2 = Named(*second, "a");
    REQUIRE(a2 != nullptr);
    CHECK(a2->disk_load_seconds == a1->disk_load_seconds);
    CHECK(a2->disk_load_samples == a1->disk_load_samples);
    CHECK(a2->host_cache_load_seconds == a1->host_cache_load_seconds);
    CHECK(a2->host_cache_load_samples == a1->host_cache_load_samples);
    CHECK(a2->usage.window_counts == a1->usage.window_counts);
    CHECK(a2->usage.output_mean == a1->usage.output_mean);
    CHECK(a2->usage.output_samples == a1->usage.output_samples);
    const LearnedModel* b2 = Named(*second, "b");
    REQUIRE(b2 != nullptr);
    CHECK(*b2 == *Named(*first, "b"));
    CHECK(second->load_profiles.size() == 2);
  }
  {
    // a's weights file changes (a new modification time): its load times are measured again, what
    // the policy learned of its use is kept.
    const std::filesystem::path weights = std::filesystem::path(a) / "model.safetensors";
    const auto mtime = std::filesystem::last_write_time(weights);
    std::filesystem::last_write_time(weights, mtime + std::chrono::seconds(5));
    auto engine = Engine::Create({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1,
                                  .state_file = path, .on_warning = warn});
    REQUIRE(engine.ok());
    REQUIRE((*engine)->AddModel(a, {.id = "a"}).ok());
    REQUIRE((*engine)->SaveState().ok());
    std::filesystem::last_write_time(weights, mtime);
    auto third = ReadStateFile(path);
    REQUIRE(third.ok());
    const LearnedModel* a3 = Named(*third, "a");
    REQUIRE(a3 != nullptr);
    CHECK(a3->disk_load_samples == 0);
    CHECK(a3->host_cache_load_samples == 0);
    CHECK(a3->usage.window_counts == a1->usage.window_counts);
  }
  CHECK(warnings.empty());
}

TEST_CASE("A damaged state file is a warning and a fresh start, then replaced by a good one", "[engine][tiers][state]") {
  const std::string a = TinyModelDir("tiers_state", 0);
  const std::string path = StatePath("damaged.state");
  {
    auto engine = Engine::Create({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1, .state_file = path});
    REQUIRE(engine.ok());
    REQUIRE((*engine)->AddModel(a, {.id = "a"}).ok());
    Recorder rec;
    auto id = (*engine)->Submit({.model = "a", .prompt = "hello world", .max_tokens = 4}, rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(rec.Wait(*id).status.ok());
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  REQUIRE(bytes.size() > 40);
  const std::string damage = GENERATE(as<std::string>{}, "flip", "truncate", "foreign");
  INFO(damage);
  if (damage == "flip") bytes[bytes.size() / 2] ^= 0x5a;
  if (damage == "truncate") bytes.resize(bytes.size() - 9);
  if (damage == "foreign") bytes = "{\"not\": \"a cace state file\"}\n";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  std::vector<std::string> warnings;
  {
    auto engine = Engine::Create({.memory_budget_bytes = BudgetFor(a, 1.3), .compute_threads = 1, .state_file = path,
                                  .on_warning = [&](const std::string& w) { warnings.push_back(w); }});
    REQUIRE(engine.ok());
    REQUIRE((*engine)->AddModel(a, {.id = "a"}).ok());
    Recorder rec;
    auto id = (*engine)->Submit({.model = "a", .prompt = "hello world", .max_tokens = 4}, rec.Callbacks());
    REQUIRE(id.ok());
    REQUIRE(rec.Wait(*id).status.ok());  // it serves as if new
  }
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find(path) != std::string::npos);
  CHECK(warnings[0].find("starting fresh") != std::string::npos);
  // The run wrote a good file in its place: only what it learned itself (one load).
  auto after = ReadStateFile(path);
  REQUIRE(after.ok());
  const LearnedModel* learned = Named(*after, "a");
  REQUIRE(learned != nullptr);
  CHECK(learned->disk_load_samples == 1);
}

TEST_CASE("SaveState without a state file is refused", "[engine][tiers][state]") {
  auto engine = Engine::Create({.memory_budget_bytes = 16 * kMiB});
  REQUIRE(engine.ok());
  CHECK(absl::IsFailedPrecondition((*engine)->SaveState()));
}

}  // namespace
}  // namespace cace
