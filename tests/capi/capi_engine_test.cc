// The C ABI over a real engine and tiny models: a policy supplied as C callbacks, streams,
// cancellation, close with requests pending (and callbacks calling back in), metrics and the
// residency listing, the host cache's tier and its getters, the state file and warnings.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "cace/cace.h"
#include "lib/loader/tiny_model_writer.h"

namespace {

namespace fs = std::filesystem;

// Two tiny models in a temporary folder, removed at the end.
struct TinyModels {
  fs::path dir = fs::temp_directory_path() / ("cace_capi_test_" + std::to_string(::getpid()));
  std::vector<std::string> paths;
  std::uint64_t largest_bytes = 0;
  TinyModels() {
    for (std::uint64_t seed : {1, 2}) {
      cace::TinyModelSpec spec;
      spec.seed = seed;
      const fs::path path = dir / ("m" + std::to_string(seed));
      REQUIRE(cace::WriteTinySafetensorsModel(spec, path.string()).ok());
      paths.push_back(path.string());
      largest_bytes = std::max<std::uint64_t>(largest_bytes, fs::file_size(path / "model.safetensors"));
    }
  }
  ~TinyModels() { fs::remove_all(dir); }
};

// Fails the test with the error's message.
void Ok(cace_code code, cace_error* error) {
  INFO(cace_code_name(code) << ": " << cace_error_message(error, nullptr));
  cace_error_free(error);
  REQUIRE(code == CACE_OK);
}

// `configure` sets further options on top of the budget and one compute thread.
cace_engine* MakeEngine(std::uint64_t budget, const cace_policy_callbacks* policy = nullptr,
                        const std::function<void(cace_engine_options*)>& configure = {}) {
  cace_engine_options* options = cace_engine_options_create();
  cace_error* error = nullptr;
  Ok(cace_engine_options_set_memory_budget(options, budget, &error), error);
  Ok(cace_engine_options_set_compute_threads(options, 1, &error), error);
  if (policy != nullptr) Ok(cace_engine_options_set_host_policy(options, "c-lru", 5, policy, &error), error);
  if (configure) configure(options);
  cace_engine* engine = cace_engine_create(options, &error);
  cace_engine_options_destroy(options);
  INFO(cace_error_message(error, nullptr));
  cace_error_free(error);
  REQUIRE(engine != nullptr);
  return engine;
}

void AddModel(cace_engine* engine, const std::string& path, const std::string& id) {
  cace_model_options* options = cace_model_options_create();
  cace_error* error = nullptr;
  Ok(cace_model_options_set_id(options, id.data(), id.size(), &error), error);
  Ok(cace_engine_add_model(engine, path.data(), path.size(), options, &error), error);
  cace_model_options_destroy(options);
}

cace_request* MakeRequest(const std::string& model, int max_tokens) {
  cace_request* request = cace_request_create();
  cace_request_set_model(request, model.data(), model.size(), nullptr);
  cace_request_set_prompt(request, "def f(x):", 9, nullptr);
  cace_request_set_max_tokens(request, max_tokens, nullptr);
  return request;
}

// Runs a request to its end through a stream; returns its code.
cace_code RunToEnd(cace_engine* engine, const cace_request* request, int* pieces = nullptr) {
  cace_stream* stream = nullptr;
  cace_error* error = nullptr;
  Ok(cace_engine_submit_stream(engine, request, &stream, &error), error);
  cace_code code = CACE_UNKNOWN;
  for (;;) {
    cace_event* event = nullptr;
    Ok(cace_stream_next(stream, -1, &event, &error), error);
    REQUIRE(event != nullptr);
    if (cace_event_get_kind(event) == CACE_EVENT_DONE) {
      code = cace_result_code(cace_event_result(event));
      cace_event_free(event);
      break;
    }
    if (pieces != nullptr) ++*pieces;
    cace_event_free(event);
  }
  cace_event* after = nullptr;
  cace_error* ended = nullptr;
  CHECK(cace_stream_next(stream, 0, &after, &ended) == CACE_OUT_OF_RANGE);
  cace_error_free(ended);
  cace_stream_destroy(stream);
  return code;
}

// LRU written against the C table, recording what the engine told it.
struct CLru {
  std::vector<std::string> registered;
  std::vector<double> last_use = std::vector<double>(8, 0);
  int decisions = 0;
  std::vector<std::uint32_t> victims;
  bool destroyed = false;
};

cace_policy_callbacks LruCallbacks(CLru& state) {
  cace_policy_callbacks c{};
  c.struct_size = sizeof c;
  c.state = &state;
  c.destroy = [](void* s) { static_cast<CLru*>(s)->destroyed = true; };
  c.on_register = [](void* s, std::uint32_t, const char* name, size_t length, std::uint64_t) {
    static_cast<CLru*>(s)->registered.emplace_back(name, length);
  };
  c.on_access = [](void* s, std::uint32_t model, cace_task_kind, double time) {
    static_cast<CLru*>(s)->last_use.at(model) = time;
  };
  c.choose_victims = [](void* s, cace_eviction_choice* choice) {
    auto* lru = static_cast<CLru*>(s);
    ++lru->decisions;
    std::vector<std::size_t> order(cace_eviction_candidate_count(choice));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return lru->last_use[cace_eviction_candidate_model(choice, a)] < lru->last_use[cace_eviction_candidate_model(choice, b)];
    });
    std::uint64_t freed = 0;
    for (std::size_t i : order) {
      if (freed >= cace_eviction_bytes_needed(choice)) break;
      cace_eviction_add_victim(choice, cace_eviction_candidate_model(choice, i));
      lru->victims.push_back(cace_eviction_candidate_model(choice, i));
      freed += cace_eviction_candidate_bytes(choice, i);
    }
  };
  return c;
}

TEST_CASE("a policy supplied as C callbacks is told the models and chooses the victims") {
  TinyModels models;
  CLru lru;
  const cace_policy_callbacks callbacks = LruCallbacks(lru);
  {
    // Room for one model and its caches, not two.
    cace_engine* engine = MakeEngine(models.largest_bytes * 3 / 2, &callbacks);
    AddModel(engine, models.paths[0], "a");
    AddModel(engine, models.paths[1], "b");
    CHECK(lru.registered == std::vector<std::string>{"a", "b"});
    for (const char* id : {"a", "b", "a"}) {
      cace_request* request = MakeRequest(id, 4);
      CHECK(RunToEnd(engine, request) == CACE_OK);
      cace_request_destroy(request);
    }
    CHECK(lru.decisions >= 2);
    REQUIRE(lru.victims.size() >= 2);
    cace_metrics* metrics = nullptr;
    cace_error* error = nullptr;
    Ok(cace_engine_metrics(engine, &metrics, &error), error);
    REQUIRE(cace_metrics_model_count(metrics) == 2);
    CHECK(cace_metrics_model_evictions(metrics, 0) + cace_metrics_model_evictions(metrics, 1) == lru.victims.size());
    CHECK(cace_metrics_model_loads(metrics, 0) == 2);
    cace_metrics_destroy(metrics);
    CHECK(!lru.destroyed);
    cace_engine_destroy(engine);
  }
  CHECK(lru.destroyed);  // the engine was the last holder of the table
}

TEST_CASE("streams, callbacks, cancellation, metrics and the listing through the C ABI") {
  TinyModels models;
  cace_engine* engine = MakeEngine(64u << 20);
  AddModel(engine, models.paths[0], "a");
  cace_request* request = MakeRequest("a", 6);
  int pieces = 0;
  CHECK(RunToEnd(engine, request, &pieces) == CACE_OK);
  CHECK(pieces >= 1);

  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    cace_code code = CACE_OK;
    cace_end_reason reason = CACE_END_STOP;
    int tokens = 0;
  } done;
  cace_request_callbacks callbacks{};
  callbacks.struct_size = sizeof callbacks;
  callbacks.user_data = &done;
  callbacks.on_token = [](void* d, uint64_t, int32_t, const char*, size_t) -> int32_t {
    ++static_cast<Done*>(d)->tokens;
    return 0;
  };
  callbacks.on_done = [](void* d, const cace_result* result) {
    auto* state = static_cast<Done*>(d);
    std::lock_guard<std::mutex> lock(state->mutex);
    state->done = true;
    state->code = cace_result_code(result);
    state->reason = cace_result_reason(result);
    state->cv.notify_all();
  };
  cace_request_set_max_tokens(request, 400, nullptr);
  std::uint64_t id = 0;
  cace_error* error = nullptr;
  Ok(cace_engine_submit(engine, request, &callbacks, &id, &error), error);
  int pending = 0;
  Ok(cace_engine_cancel(engine, id, &pending, &error), error);
  {
    std::unique_lock<std::mutex> lock(done.mutex);
    done.cv.wait(lock, [&] { return done.done; });
  }
  if (pending) {
    CHECK(done.code == CACE_CANCELLED);
    CHECK(done.reason == CACE_END_CANCELLED);
  }

  char* text = nullptr;
  size_t length = 0;
  Ok(cace_engine_prometheus_text(engine, &text, &length, &error), error);
  CHECK(std::strlen(text) == length);
  CHECK(std::string(text).find("cace_requests_total") != std::string::npos);
  cace_free(text);

  cace_model_list* list = nullptr;
  Ok(cace_engine_list_models(engine, &list, &error), error);
  REQUIRE(cace_model_list_count(list) == 1);
  size_t id_length = 0;
  const char* id_text = cace_model_list_id(list, 0, &id_length);  // sets id_length
  CHECK(std::string(id_text, id_length) == "a");
  CHECK(cace_model_list_state(list, 0) == CACE_RESIDENCY_RESIDENT);
  CHECK(cace_model_list_weight_bytes(list, 0) > 0);
  cace_model_list_destroy(list);

  Ok(cace_engine_pin(engine, "a", 1, 1, &error), error);
  CHECK(cace_engine_unload(engine, "a", 1, &error) == CACE_FAILED_PRECONDITION);
  cace_error_free(error);
  cace_request_destroy(request);
  cace_engine_destroy(engine);
}

TEST_CASE("a token callback that returns non-zero ends its request with CACE_ABORTED, and only it") {
  TinyModels models;
  cace_engine* engine = MakeEngine(64u << 20);
  AddModel(engine, models.paths[0], "a");
  cace_request* request = MakeRequest("a", 40);
  struct Refusing {
    std::mutex mutex;
    std::condition_variable cv;
    std::atomic<int> pieces{0};
    bool done = false;
    cace_code code = CACE_OK;
    std::string message;
    cace_end_reason reason = CACE_END_STOP;
  } state;
  cace_request_callbacks callbacks{};
  callbacks.struct_size = sizeof callbacks;
  callbacks.user_data = &state;
  callbacks.on_token = [](void* s, uint64_t, int32_t, const char*, size_t) -> int32_t {
    return ++static_cast<Refusing*>(s)->pieces == 2 ? -7 : 0;  // the host's sink fails at the second
  };
  callbacks.on_done = [](void* s, const cace_result* result) {
    auto* refusing = static_cast<Refusing*>(s);
    std::lock_guard<std::mutex> lock(refusing->mutex);
    size_t length = 0;
    const char* message = cace_result_message(result, &length);
    refusing->message.assign(message, length);
    refusing->code = cace_result_code(result);
    refusing->reason = cace_result_reason(result);
    refusing->done = true;
    refusing->cv.notify_all();
  };
  std::uint64_t id = 0;
  cace_error* error = nullptr;
  Ok(cace_engine_submit(engine, request, &callbacks, &id, &error), error);
  int neighbour_pieces = 0;
  CHECK(RunToEnd(engine, request, &neighbour_pieces) == CACE_OK);  // the same model, meanwhile
  CHECK(neighbour_pieces >= 1);
  {
    std::unique_lock<std::mutex> lock(state.mutex);
    state.cv.wait(lock, [&] { return state.done; });
  }
  CHECK(state.code == CACE_ABORTED);
  CHECK(state.message == "on_token returned -7");
  CHECK(state.reason == CACE_END_ERROR);
  CHECK(state.pieces.load() == 2);  // nothing streamed after the refusal

  // Its KV cache went back: the memory in use is the model's weights alone.
  cace_metrics* metrics = nullptr;
  Ok(cace_engine_metrics(engine, &metrics, &error), error);
  CHECK(cace_metrics_memory_used_bytes(metrics) == cace_metrics_model_resident_bytes(metrics, 0));
  CHECK(cace_metrics_model_in_flight(metrics, 0) == 0);
  CHECK(cace_metrics_model_requests_failed(metrics, 0) == 1);
  cace_metrics_destroy(metrics);
  cace_request_destroy(request);
  cace_engine_destroy(engine);
}

TEST_CASE("close ends pending requests cancelled, and callbacks that call in then find the engine closed") {
  TinyModels models;
  cace_engine* engine = MakeEngine(64u << 20);
  AddModel(engine, models.paths[0], "a");
  struct Shared {
    cace_engine* engine;
    std::atomic<int> done{0};
    std::atomic<int> cancelled{0};
    std::atomic<int> calls_refused{0};
  } shared{engine};
  cace_request_callbacks callbacks{};
  callbacks.struct_size = sizeof callbacks;
  callbacks.user_data = &shared;
  callbacks.on_done = [](void* s, const cace_result* result) {
    auto* state = static_cast<Shared*>(s);
    if (cace_result_code(result) == CACE_CANCELLED) ++state->cancelled;
    cace_error* error = nullptr;
    if (cace_engine_cancel(state->engine, 1, nullptr, &error) == CACE_FAILED_PRECONDITION) ++state->calls_refused;
    cace_error_free(error);
    ++state->done;
  };
  cace_request* request = MakeRequest("a", 400);
  constexpr int kRequests = 6;
  for (int i = 0; i < kRequests; ++i) {
    std::uint64_t id = 0;
    cace_error* error = nullptr;
    Ok(cace_engine_submit(engine, request, &callbacks, &id, &error), error);
  }
  cace_error* error = nullptr;
  Ok(cace_engine_close(engine, &error), error);
  CHECK(shared.done == kRequests);
  CHECK(shared.cancelled >= 1);
  CHECK(shared.calls_refused == shared.cancelled);
  CHECK(cace_engine_submit(engine, request, nullptr, nullptr, &error) == CACE_FAILED_PRECONDITION);
  cace_error_free(error);
  cace_request_destroy(request);
  cace_engine_destroy(engine);
}

TEST_CASE("with a host cache, an evicted model reloads from it, and the tier getters say so") {
  TinyModels models;
  // Room for one model and its caches in the budget; a host cache for both.
  const std::uint64_t cache_budget = 2 * models.largest_bytes;
  cace_engine* engine = MakeEngine(models.largest_bytes * 3 / 2, nullptr, [&](cace_engine_options* options) {
    cace_error* error = nullptr;
    Ok(cace_engine_options_set_host_cache_bytes(options, cache_budget, &error), error);
  });
  AddModel(engine, models.paths[0], "a");
  AddModel(engine, models.paths[1], "b");
  for (const char* id : {"a", "b", "a"}) {  // a from disk; b evicts a into the cache; a from the cache
    cace_request* request = MakeRequest(id, 4);
    CHECK(RunToEnd(engine, request) == CACE_OK);
    cace_request_destroy(request);
  }
  cace_metrics* metrics = nullptr;
  cace_error* error = nullptr;
  Ok(cace_engine_metrics(engine, &metrics, &error), error);
  REQUIRE(cace_metrics_model_count(metrics) == 2);
  CHECK(cace_metrics_model_tier_loads(metrics, 0, CACE_LOAD_TIER_DISK) == 1);
  CHECK(cace_metrics_model_tier_loads(metrics, 0, CACE_LOAD_TIER_HOST_CACHE) == 1);
  CHECK(cace_metrics_model_loads(metrics, 0) == 2);
  const std::uint64_t a_bytes = cace_metrics_model_tier_bytes(metrics, 0, CACE_LOAD_TIER_DISK);
  CHECK(a_bytes > 0);
  CHECK(cace_metrics_model_tier_bytes(metrics, 0, CACE_LOAD_TIER_HOST_CACHE) == a_bytes);
  CHECK(cace_metrics_model_tier_seconds(metrics, 0, CACE_LOAD_TIER_DISK) > 0);
  CHECK(cace_metrics_model_tier_seconds(metrics, 0, CACE_LOAD_TIER_HOST_CACHE) > 0);
  CHECK(cace_metrics_model_host_cache_bytes(metrics, 0) == 0);  // back in the budget's memory
  // b went into the cache when a came back.
  const std::uint64_t b_bytes = cace_metrics_model_tier_bytes(metrics, 1, CACE_LOAD_TIER_DISK);
  CHECK(cace_metrics_model_tier_loads(metrics, 1, CACE_LOAD_TIER_HOST_CACHE) == 0);
  CHECK(cace_metrics_model_host_cache_bytes(metrics, 1) == b_bytes);
  CHECK(cace_metrics_host_cache_used_bytes(metrics) == b_bytes);
  CHECK(cace_metrics_host_cache_budget_bytes(metrics) == cache_budget);
  CHECK(cace_metrics_prefetches(metrics) == 0);  // prefetch is off
  // Unknown tiers and indices read 0.
  CHECK(cace_metrics_model_tier_loads(metrics, 0, 7) == 0);
  CHECK(cace_metrics_model_tier_seconds(metrics, 0, -1) == 0);
  CHECK(cace_metrics_model_tier_bytes(metrics, 2, CACE_LOAD_TIER_DISK) == 0);
  CHECK(cace_metrics_model_host_cache_bytes(metrics, 2) == 0);
  cace_metrics_destroy(metrics);

  cace_model_list* list = nullptr;
  Ok(cace_engine_list_models(engine, &list, &error), error);
  REQUIRE(cace_model_list_count(list) == 2);
  CHECK(cace_model_list_state(list, 0) == CACE_RESIDENCY_RESIDENT);
  CHECK(cace_model_list_state(list, 1) == CACE_RESIDENCY_HOST_CACHE);
  cace_model_list_destroy(list);
  cace_engine_destroy(engine);
}

// Warnings an engine sent to the host.
struct Warnings {
  std::mutex mutex;
  std::vector<std::string> texts;
  static void Collect(void* user_data, const char* text, size_t length) {
    auto* warnings = static_cast<Warnings*>(user_data);
    std::lock_guard<std::mutex> lock(warnings->mutex);
    warnings->texts.emplace_back(text, length);
  }
};

std::string FileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_CASE("save_state writes the state file, a second engine reads it, a damaged one is a warning") {
  TinyModels models;
  const fs::path state = models.dir / "engine.state";
  const std::string state_path = state.string();
  Warnings warnings;
  auto with_state = [&](cace_engine_options* options) {
    cace_error* error = nullptr;
    Ok(cace_engine_options_set_state_file(options, state_path.data(), state_path.size(), &error), error);
    Ok(cace_engine_options_set_warning_callback(options, Warnings::Collect, &warnings, &error), error);
  };
  {
    cace_engine* engine = MakeEngine(64u << 20, nullptr, with_state);
    AddModel(engine, models.paths[0], "model-alpha");
    AddModel(engine, models.paths[1], "model-beta");
    for (const char* id : {"model-alpha", "model-beta"}) {
      cace_request* request = MakeRequest(id, 4);
      CHECK(RunToEnd(engine, request) == CACE_OK);
      cace_request_destroy(request);
    }
    cace_error* error = nullptr;
    Ok(cace_engine_save_state(engine, &error), error);
    REQUIRE(fs::exists(state));
    CHECK(FileBytes(state).find("model-beta") != std::string::npos);
    cace_engine_destroy(engine);
  }
  {
    // A second engine with model-alpha only: what it saves still holds model-beta, which it can
    // only have read from the first engine's file (what a run did not add is carried forward).
    cace_engine* engine = MakeEngine(64u << 20, nullptr, with_state);
    AddModel(engine, models.paths[0], "model-alpha");
    cace_error* error = nullptr;
    Ok(cace_engine_save_state(engine, &error), error);
    const std::string saved = FileBytes(state);
    CHECK(saved.find("model-alpha") != std::string::npos);
    CHECK(saved.find("model-beta") != std::string::npos);
    cace_engine_destroy(engine);
  }
  CHECK(warnings.texts.empty());

  // Damaged: the engine starts fresh and says so through the callback, naming the file.
  std::string bytes = FileBytes(state);
  REQUIRE(bytes.size() > 16);
  bytes.resize(bytes.size() - 5);
  std::ofstream(state, std::ios::binary | std::ios::trunc) << bytes;
  cace_engine* engine = MakeEngine(64u << 20, nullptr, with_state);
  {
    std::lock_guard<std::mutex> lock(warnings.mutex);
    REQUIRE(warnings.texts.size() == 1);
    CHECK(warnings.texts[0].find(state_path) != std::string::npos);
  }
  cace_error* error = nullptr;
  Ok(cace_engine_save_state(engine, &error), error);  // a good file replaces it
  cace_engine_destroy(engine);
  CHECK(warnings.texts.size() == 1);
}

TEST_CASE("save_state without a state file is a precondition error with a message") {
  cace_engine* engine = MakeEngine(16u << 20);
  cace_error* error = nullptr;
  CHECK(cace_engine_save_state(engine, &error) == CACE_FAILED_PRECONDITION);
  REQUIRE(error != nullptr);
  CHECK(cace_error_code(error) == CACE_FAILED_PRECONDITION);
  size_t length = 0;
  cace_error_message(error, &length);
  CHECK(length > 0);
  cace_error_free(error);
  cace_engine_destroy(engine);
}

}  // namespace
