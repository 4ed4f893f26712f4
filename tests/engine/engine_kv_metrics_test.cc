// The engine's KV figures: the reservation the policy counts and the bytes the backend's caches
// really hold, checked against the runtime's own count for the same model and sequences.
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/model_instance.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::SchedulerHold;
using testing::TinyModelDir;

constexpr std::uint64_t kMiB = 1ull << 20;

TEST_CASE("Metrics report the KV reservation and the KV bytes the backend holds", "[engine][metrics]") {
  const std::string dir = TinyModelDir("kvm", 0);
  // Three sequences of different prompt lengths, so that each one's bytes count.
  const std::vector<std::vector<std::int32_t>> prompts = {{5, 6, 7}, {8, 9, 10, 11, 12}, {13, 14, 15, 16, 17, 18, 19}};
  constexpr int kMaxTokens = 12;

  // The runtime's own figure: the same model holding the same sequences.
  auto pool = CreateHostArena(64 * kMiB);
  REQUIRE(pool.ok());
  auto direct = LoadModelInstance(dir, **pool, {.cpu = {.threads = 1}});
  REQUIRE(direct.ok());
  std::vector<std::unique_ptr<Sequence>> sequences;
  std::uint64_t reservation = 0;
  for (const auto& prompt : prompts) {
    auto seq = Sequence::Start(&(*direct)->backend(), prompt, {.max_new_tokens = kMaxTokens}, pool->get());
    REQUIRE(seq.ok());
    sequences.push_back(*std::move(seq));
    reservation += (prompt.size() + kMaxTokens) * (*direct)->kv_bytes_per_token();
  }
  const std::uint64_t runtime_kv_bytes = (*direct)->kv_bytes();
  REQUIRE(runtime_kv_bytes > 0);

  // The engine, looked at in the first step that holds all three (the compute worker waits in
  // the hook; the scheduler thread answers Metrics meanwhile).
  Engine* engine_ptr = nullptr;
  std::mutex mu;
  std::optional<MetricsSnapshot> during;
  std::vector<ResidencyEntry> listing;
  std::string prometheus;
  auto made = CreateEngineForTest(
      {.memory_budget_bytes = 64 * kMiB, .compute_threads = 1},
      {.before_step = [&](const std::vector<RequestId>& batch, const std::vector<RequestId>&) {
        std::lock_guard<std::mutex> lock(mu);
        if (during || batch.size() != prompts.size()) return;
        during = engine_ptr->Metrics();
        listing = engine_ptr->ListModels();
        prometheus = PrometheusText(*during);
      }});
  REQUIRE(made.ok());
  std::unique_ptr<Engine> engine = *std::move(made);
  engine_ptr = engine.get();
  REQUIRE(engine->AddModel(dir, {.id = "m"}).ok());
  {
    // All three reach the scheduler together, so they start in one step.
    SchedulerHold hold(*engine, "m");
    for (const auto& prompt : prompts) {
      REQUIRE(engine->Submit({.model = "m", .prompt_tokens = prompt, .max_tokens = kMaxTokens}, {}).ok());
    }
  }
  engine->WaitIdle();

  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(during.has_value());
  const ModelMetrics& m = during->models.at(0);
  CHECK(m.kv_allocated_bytes == runtime_kv_bytes);
  CHECK(m.kv_reserved_bytes == reservation);
  REQUIRE(listing.size() == 1);
  CHECK(listing[0].kv_allocated_bytes == runtime_kv_bytes);
  CHECK(listing[0].kv_reserved_bytes == reservation);
  CHECK(prometheus.find("cace_model_kv_allocated_bytes{model=\"m\"} " + std::to_string(runtime_kv_bytes) + "\n") !=
        std::string::npos);
  CHECK(prometheus.find("cace_model_kv_reserved_bytes{model=\"m\"} " + std::to_string(reservation) + "\n") !=
        std::string::npos);

  // Every request ended: nothing reserved, no cache held.
  const ModelMetrics after = engine->Metrics().models.at(0);
  CHECK(after.kv_reserved_bytes == 0);
  CHECK(after.kv_allocated_bytes == 0);
}

}  // namespace
}  // namespace cace
