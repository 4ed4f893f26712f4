// A load the pool refuses for want of one free block, though its free bytes would hold the model:
// the Engine compacts the pool once the device is idle, re-points the resident models' weights
// and loads again. The arena is sized by hand (through EngineHooks::wrap_pool) so that the holes
// left by an unloaded model are each too small for the next one.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/pool/host_arena.h"
#include "lib/runtime/model_instance.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Recorder;
using testing::TinyModelDir;

// A tiny model with more layers than TinyModelDir's: more than twice their bytes.
std::string LargerModelDir() {
  const std::filesystem::path dir = std::filesystem::path(TinyModelDir("compaction_base", 0)).parent_path() / "large";
  if (!std::filesystem::exists(dir / "config.json")) {
    TinyModelSpec spec;
    spec.num_hidden_layers = 6;
    spec.seed = 42;
    if (!WriteTinySafetensorsModel(spec, dir.string()).ok()) return "";
  }
  return dir.string();
}

std::uint64_t WeightBytes(const std::string& path) {
  const absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(path, MemoryKind::kHost);
  REQUIRE(footprint.ok());
  return footprint->weight_bytes;
}

// Preload and Unload return at once (WaitIdle waits for requests, not for a preload): poll the
// listing until the model is in `state`.
void WaitFor(Engine& engine, const std::string& id, Residency state) {
  for (int i = 0; i < 5000; ++i) {
    for (const ResidencyEntry& m : engine.ListModels()) {
      if (m.model == id && m.state == state) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL("model " << id << " never became " << ResidencyName(state));
}

// An engine whose pool is a host arena of exactly `arena` bytes. The core's budget is far above
// it: the core never evicts for room, so only the pool's layout decides whether a load fits.
std::unique_ptr<Engine> EngineOnArena(std::uint64_t arena, std::uint64_t budget) {
  EngineHooks hooks;
  hooks.wrap_pool = [arena](std::unique_ptr<MemoryPool>) -> std::unique_ptr<MemoryPool> {
    absl::StatusOr<std::unique_ptr<MemoryPool>> pool = CreateHostArena(arena);
    return pool.ok() ? *std::move(pool) : nullptr;
  };
  absl::StatusOr<std::unique_ptr<Engine>> engine = CreateEngineForTest({.memory_budget_bytes = budget}, hooks);
  REQUIRE(engine.ok());
  return *std::move(engine);
}

struct Served {
  std::vector<std::int32_t> tokens;
  absl::Status status;
};

Served Generate(Engine& engine, const std::string& model) {
  Recorder rec;
  const absl::StatusOr<RequestId> id =
      engine.Submit({.model = model, .prompt = "abcabc", .max_tokens = 8},
                    rec.Callbacks());
  REQUIRE(id.ok());
  const RequestResult r = rec.Wait(*id);
  return Served{rec.Get(*id).tokens, r.status};
}

TEST_CASE("A load refused by a fragmented pool is retried after a compaction; the moved model answers as before",
          "[engine][compaction]") {
  const std::string a = TinyModelDir("compaction", 0), b = TinyModelDir("compaction", 1), large = LargerModelDir();
  const std::uint64_t small_bytes = WeightBytes(a), large_bytes = WeightBytes(large);
  REQUIRE(WeightBytes(b) == small_bytes);
  REQUIRE(large_bytes > 2 * small_bytes);

  // What each model answers in an engine with room for everything.
  std::vector<std::int32_t> want_b, want_large;
  {
    auto roomy = CreateEngineForTest({.memory_budget_bytes = 16 * (small_bytes + large_bytes)}, {});
    REQUIRE(roomy.ok());
    REQUIRE((*roomy)->AddModel(b, {.id = "b"}).ok());
    REQUIRE((*roomy)->AddModel(large, {.id = "large"}).ok());
    want_b = Generate(**roomy, "b").tokens;
    want_large = Generate(**roomy, "large").tokens;
    REQUIRE(!want_b.empty());  // greedy (the default sampling)
    REQUIRE(!want_large.empty());
  }

  // a at [0, S), b at [S, 2S); once a is unloaded the free bytes are [0, S) and [2S, arena), each
  // smaller than the large model L: the arena is S + L + 0.9 S, so its top hole is L - 0.1 S.
  // After the compaction b sits at [0, S) and [S, arena) holds L and the request's KV cache.
  const std::uint64_t arena = small_bytes + large_bytes + small_bytes * 9 / 10;
  std::unique_ptr<Engine> engine = EngineOnArena(arena, 16 * (small_bytes + large_bytes));
  Engine& e = *engine;
  REQUIRE(e.AddModel(a, {.id = "a"}).ok());
  REQUIRE(e.AddModel(b, {.id = "b"}).ok());
  REQUIRE(e.AddModel(large, {.id = "large"}).ok());
  REQUIRE(e.Preload("a").ok());
  WaitFor(e, "a", Residency::kResident);
  REQUIRE(e.Preload("b").ok());
  WaitFor(e, "b", Residency::kResident);
  REQUIRE(e.Unload("a").ok());
  WaitFor(e, "a", Residency::kAbsent);
  REQUIRE(e.Metrics().pool_compactions == 0);

  const Served from_large = Generate(e, "large");
  CHECK(from_large.status.ok());
  CHECK(from_large.tokens == want_large);
  const MetricsSnapshot after = e.Metrics();
  CHECK(after.pool_compactions == 1);
  CHECK(after.models[2].loads == 1);
  CHECK(after.models[2].load_failures == 0);
  // b's weights were moved by the compaction and re-pointed: it answers as it did.
  const Served from_b = Generate(e, "b");
  CHECK(from_b.status.ok());
  CHECK(from_b.tokens == want_b);
  CHECK(e.Metrics().models[1].loads == 1);  // served where it was moved, not reloaded
}

TEST_CASE("A load that no compaction can make room for fails with the pool's reason, and nothing is compacted",
          "[engine][compaction]") {
  const std::string b = TinyModelDir("compaction_full", 1), large = LargerModelDir();
  const std::uint64_t small_bytes = WeightBytes(b), large_bytes = WeightBytes(large);
  // Room for b and less than the large model beside it, however the bytes are laid out.
  const std::uint64_t arena = small_bytes + large_bytes / 2;
  std::unique_ptr<Engine> engine = EngineOnArena(arena, 16 * (small_bytes + large_bytes));
  Engine& e = *engine;
  REQUIRE(e.AddModel(b, {.id = "b"}).ok());
  REQUIRE(e.AddModel(large, {.id = "large"}).ok());
  REQUIRE(e.Preload("b").ok());
  WaitFor(e, "b", Residency::kResident);
  const Served from_large = Generate(e, "large");
  CHECK(from_large.status.code() == absl::StatusCode::kResourceExhausted);
  CHECK(e.Metrics().pool_compactions == 0);
  CHECK(e.Metrics().models[1].load_failures == 1);
  CHECK(Generate(e, "b").status.ok());  // the resident model still serves
}

}  // namespace
}  // namespace cace

