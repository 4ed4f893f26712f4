// The Engine end to end on tiny models: outputs against the runtime's own generation, the checks
// Submit makes, stop strings, metrics and the residency listing.
#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cace/engine.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/model_instance.h"
#include "lib/tokenizer/tokenizer_file.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

using testing::Recorder;
using testing::TinyModelDir;

constexpr std::uint64_t kMiB = 1ull << 20;

std::unique_ptr<Engine> MakeEngine(EngineOptions options = {}) {
  if (options.memory_budget_bytes == 0) options.memory_budget_bytes = 64 * kMiB;
  options.compute_threads = 1;
  auto engine = Engine::Create(options);
  REQUIRE(engine.ok());
  return *std::move(engine);
}

// What the runtime generates for `prompt` on its own, greedily, stopping at EOS.
std::vector<std::int32_t> DirectGreedy(const std::string& dir, const std::vector<std::int32_t>& prompt, int max_tokens) {
  auto pool = CreateHostArena(64 * kMiB);
  REQUIRE(pool.ok());
  auto model = LoadModelInstance(dir, **pool, {.cpu = {.threads = 1}});
  REQUIRE(model.ok());
  GenerationOptions options{.max_new_tokens = max_tokens};
  if ((*model)->tokenizer().eos()) options.stop_tokens.push_back(*(*model)->tokenizer().eos());
  auto sequence = Sequence::Start(&(*model)->backend(), prompt, options);
  REQUIRE(sequence.ok());
  Sequence* s = sequence->get();
  REQUIRE(GenerateAll((*model)->backend(), {&s, 1}).ok());
  return s->output();
}

std::vector<std::int32_t> Encode(const std::string& dir, const std::string& text) {
  auto tokenizer = LoadTokenizer(dir + "/tokenizer.json");
  REQUIRE(tokenizer.ok());
  const auto ids = (*tokenizer)->Encode(text, {.add_special = true});
  return {ids.begin(), ids.end()};
}

const std::vector<std::string> kPrompts = {"def add(a, b):", "hello world", "for i in range(10):", "// sum\nint s"};

TEST_CASE("Greedy output equals the runtime's own generation, alone and in a batch", "[engine]") {
  const std::string dir = TinyModelDir("greedy", 0);
  auto engine = MakeEngine();
  const absl::Status added = engine->AddModel(dir, {.id = "m"});
  INFO(added.ToString());
  REQUIRE(added.ok());
  constexpr int kMax = 12;
  std::vector<std::vector<std::int32_t>> expected;
  for (const std::string& p : kPrompts) expected.push_back(DirectGreedy(dir, Encode(dir, p), kMax));

  Recorder alone;
  for (std::size_t i = 0; i < kPrompts.size(); ++i) {
    auto id = engine->Submit({.model = "m", .prompt = kPrompts[i], .max_tokens = kMax}, alone.Callbacks());
    REQUIRE(id.ok());
    const RequestResult r = alone.Wait(*id);
    REQUIRE(r.status.ok());
    CHECK(alone.Get(*id).tokens == expected[i]);
    CHECK(r.usage.completion_tokens == static_cast<std::int64_t>(expected[i].size()));
    CHECK(r.usage.prompt_tokens == static_cast<std::int64_t>(Encode(dir, kPrompts[i]).size()));
  }

  Recorder batch;
  std::vector<RequestId> ids;
  for (const std::string& p : kPrompts) {
    auto id = engine->Submit({.model = "m", .prompt = p, .max_tokens = kMax}, batch.Callbacks());
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  engine->WaitIdle();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto outcome = batch.Get(ids[i]);
    REQUIRE(outcome.results.size() == 1);
    CHECK(outcome.results[0].status.ok());
    CHECK(outcome.tokens == expected[i]);
    CHECK(outcome.streamed == outcome.results[0].text);
  }
}

TEST_CASE("Submit refuses what it cannot serve, and changes nothing", "[engine]") {
  auto engine = MakeEngine({.max_pending_requests = 4});
  REQUIRE(engine->AddModel(TinyModelDir("checks", 0), {.id = "m"}).ok());
  CHECK(engine->AddModel(TinyModelDir("checks", 0), {.id = "m"}).code() == absl::StatusCode::kAlreadyExists);
  CHECK(engine->AddModel("/nonexistent/model", {.id = "x"}).code() != absl::StatusCode::kOk);
  CHECK(engine->Submit({.model = "nope", .prompt = "x"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(engine->Submit({.model = "m"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(engine->Submit({.model = "m", .prompt = "x", .max_tokens = 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(engine->Submit({.model = "m", .prompt_tokens = {1, 99999}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(engine->Submit({.model = "m", .prompt = "x", .max_tokens = 100000}).status().code() ==
        absl::StatusCode::kOutOfRange);
  CHECK(engine->Submit({.model = "m", .prompt = "x", .sampling = {.temperature = -1}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(engine->Submit({.model = "m", .prompt = "x", .stop = {""}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const MetricsSnapshot metrics = engine->Metrics();
  REQUIRE(metrics.models.size() == 1);
  CHECK(metrics.models[0].loads == 0);  // nothing was queued
  CHECK(engine->Metrics().memory_used_bytes == 0);
}

TEST_CASE("A stop string ends the output before it", "[engine]") {
  const std::string dir = TinyModelDir("stop", 0);
  auto engine = MakeEngine();
  const absl::Status added = engine->AddModel(dir, {.id = "m"});
  INFO(added.ToString());
  REQUIRE(added.ok());
  Recorder free_run;
  auto id = engine->Submit({.model = "m", .prompt = "hello", .max_tokens = 16}, free_run.Callbacks());
  REQUIRE(id.ok());
  const RequestResult full = free_run.Wait(*id);
  REQUIRE(full.status.ok());
  REQUIRE(full.text.size() >= 4);
  // A stop string from the middle of the free run's text.
  const std::string stop = full.text.substr(2, 2);
  const std::string before = full.text.substr(0, full.text.find(stop));
  Recorder stopped;
  id = engine->Submit({.model = "m", .prompt = "hello", .max_tokens = 16, .stop = {stop}}, stopped.Callbacks());
  REQUIRE(id.ok());
  const RequestResult cut = stopped.Wait(*id);
  CHECK(cut.status.ok());
  CHECK(cut.reason == EndReason::kStop);
  CHECK(cut.text == before);
  CHECK(stopped.Get(*id).streamed == before);
}

TEST_CASE("Metrics count requests and loads; Prometheus text and the listing show them", "[engine]") {
  auto engine = MakeEngine();
  REQUIRE(engine->AddModel(TinyModelDir("metrics", 0), {.id = "alpha"}).ok());
  REQUIRE(engine->AddModel(TinyModelDir("metrics", 1), {.id = "beta"}).ok());
  Recorder rec;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(engine->Submit({.model = "alpha", .prompt = "x = 1", .kind = TaskKind::kCompletion, .max_tokens = 4},
                           rec.Callbacks()).ok());
  }
  REQUIRE(engine->Submit({.model = "beta", .prompt = "explain", .kind = TaskKind::kChat, .max_tokens = 4},
                         rec.Callbacks()).ok());
  engine->WaitIdle();
  const MetricsSnapshot m = engine->Metrics();
  REQUIRE(m.models.size() == 2);
  const KindMetrics& alpha = m.models[0].kinds[KindIndex(TaskKind::kCompletion)];
  CHECK(alpha.requests_ok == 3);
  CHECK(alpha.ttft.count == 3);
  CHECK(alpha.end_to_end.count == 3);
  CHECK(m.models[0].loads == 1);
  CHECK(m.models[0].bytes_loaded > 0);
  CHECK(m.models[1].kinds[KindIndex(TaskKind::kChat)].requests_ok == 1);
  CHECK(m.memory_used_bytes > 0);
  const std::string text = engine->PrometheusMetrics();
  CHECK(text.find("cace_requests_total{model=\"alpha\",kind=\"completion\",status=\"ok\"} 3\n") != std::string::npos);
  CHECK(text.find("cace_time_to_first_token_seconds_count{model=\"alpha\",kind=\"completion\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("cace_model_loads_total{model=\"beta\"} 1\n") != std::string::npos);
  const auto listing = engine->ListModels();
  REQUIRE(listing.size() == 2);
  CHECK(listing[0].model == "alpha");
  CHECK(listing[0].state == Residency::kResident);
  CHECK(listing[0].in_flight == 0);
  CHECK(ResidencyListing(listing).find("alpha") != std::string::npos);
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("Create refuses bad options", "[engine]") {
  CHECK(Engine::Create({}).status().code() == absl::StatusCode::kInvalidArgument);  // no budget
  CHECK(Engine::Create({.memory_budget_bytes = kMiB, .policy = "nope"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Engine::Create({.memory_budget_bytes = kMiB, .policy = "oracle"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Engine::Create({.memory_budget_bytes = kMiB, .policy = "lru", .cace_weights = CaceWeights{}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  for (const char* policy : {"cace", "cace-adaptive", "lru", "ollama", "gdsf"}) {
    CHECK(Engine::Create({.memory_budget_bytes = kMiB, .policy = policy}).ok());
  }
}

TEST_CASE("The CUDA backend serves where a device is, and is refused clearly where not", "[engine][cuda]") {
  auto engine = Engine::Create({.backend = BackendKind::kCuda, .memory_budget_bytes = 64 * kMiB});
  if (!engine.ok()) {
    // A build without CUDA, or no device: a clear refusal, nothing else.
    CHECK((engine.status().code() == absl::StatusCode::kFailedPrecondition ||
           engine.status().code() == absl::StatusCode::kUnavailable));
    SUCCEED("no CUDA device: " << engine.status());
    return;
  }
  REQUIRE((*engine)->AddModel(TinyModelDir("cuda", 0), {.id = "m"}).ok());
  Recorder rec;
  auto id = (*engine)->Submit({.model = "m", .prompt = "def add(a, b):", .max_tokens = 8}, rec.Callbacks());
  REQUIRE(id.ok());
  const RequestResult r = rec.Wait(*id);
  CHECK(r.status.ok());
  CHECK(rec.Get(*id).streamed == r.text);
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("Callbacks may call back into the Engine", "[engine]") {
  const std::string dir = TinyModelDir("reenter", 0);
  Recorder rec;
  auto engine = MakeEngine();
  REQUIRE(engine->AddModel(dir, {.id = "m"}).ok());
  Engine* e = engine.get();
  std::promise<RequestId> chained;
  std::atomic<int> metrics_from_token{0};
  RequestCallbacks callbacks;
  callbacks.on_token = [&](const TokenPiece&) {  // the compute worker asks the scheduler
    if (!e->Metrics().models.empty()) ++metrics_from_token;
    return absl::OkStatus();
  };
  // Catch's assertions are for the test's thread: the callback records, the test checks.
  bool pinned = false, listed = false, added = false;
  callbacks.on_done = [&, e](const RequestResult&) {  // the scheduler thread: runs inline
    pinned = e->Pin("m", true).ok();
    listed = e->ListModels().at(0).pinned;
    added = e->AddModel(TinyModelDir("reenter", 1), {.id = "second"}).ok();
    auto next = e->Submit({.model = "second", .prompt = "y", .max_tokens = 2}, rec.Callbacks());
    chained.set_value(next.ok() ? *next : 0);
  };
  REQUIRE(engine->Submit({.model = "m", .prompt = "x", .max_tokens = 3}, callbacks).ok());
  const RequestId next = chained.get_future().get();
  CHECK(pinned);
  CHECK(listed);
  CHECK(added);
  REQUIRE(next != 0);
  CHECK(rec.Wait(next).status.ok());
  CHECK(metrics_from_token > 0);
}

}  // namespace
}  // namespace cace
