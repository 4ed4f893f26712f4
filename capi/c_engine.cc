// Engine options, engine lifetime, model options, models and their controls.
#include <cmath>

#include "cace/cace_weight_names.h"
#include "capi/c_internal.h"
#include "capi/host_policy.h"

using cace::capi::EngineCall;
using cace::capi::Fail;
using cace::capi::FromStatus;
using cace::capi::Guarded;
using cace::capi::Ok;
using cace::capi::Text;

namespace {

cace_code NullOptions(cace_error** error) { return Fail(error, CACE_INVALID_ARGUMENT, "options are NULL"); }

// A control on a model by id: NULL checks, the engine call, its status.
template <typename Control>
cace_code ModelControl(cace_engine* engine, const char* id, size_t id_length, cace_error** error, Control control) {
  return Guarded(error, [&] {
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    auto text = Text(id, id_length, "id", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    return FromStatus(error, control(*call.engine(), std::string(*text)));
  });
}

}  // namespace

extern "C" {

cace_engine_options* cace_engine_options_create(void) { return new (std::nothrow) cace_engine_options(); }

void cace_engine_options_destroy(cace_engine_options* options) { delete options; }

cace_code cace_engine_options_set_memory_budget(cace_engine_options* options, uint64_t bytes, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (bytes == 0) return Fail(error, CACE_INVALID_ARGUMENT, "the memory budget must be > 0");
  options->options.memory_budget_bytes = bytes;
  return Ok(error);
}

cace_code cace_engine_options_set_backend(cace_engine_options* options, cace_backend backend, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (backend != CACE_BACKEND_CPU && backend != CACE_BACKEND_CUDA) {
    return Fail(error, CACE_INVALID_ARGUMENT, "unknown backend " + std::to_string(backend));
  }
  options->options.backend = backend == CACE_BACKEND_CPU ? cace::BackendKind::kCpu : cace::BackendKind::kCuda;
  return Ok(error);
}

cace_code cace_engine_options_set_policy(cace_engine_options* options, const char* name, size_t name_length,
                                         cace_error** error) {
  return Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    auto text = Text(name, name_length, "name", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    if (text->empty()) return Fail(error, CACE_INVALID_ARGUMENT, "the policy name is empty");
    options->options.policy = std::string(*text);
    options->host_policy.reset();
    return Ok(error);
  });
}

cace_code cace_engine_options_set_cace_weight(cace_engine_options* options, const char* name, size_t name_length,
                                              double value, cace_error** error) {
  return Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    auto text = Text(name, name_length, "name", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    cace::CaceWeights weights = options->options.cace_weights.value_or(cace::CaceWeights{});
    absl::Status set = cace::SetCaceWeight(weights, *text, value);
    if (!set.ok()) return FromStatus(error, set);
    options->options.cace_weights = weights;
    return Ok(error);
  });
}

cace_code cace_engine_options_set_host_policy(cace_engine_options* options, const char* name, size_t name_length,
                                              const cace_policy_callbacks* callbacks, cace_error** error) {
  return Guarded(error, [&] {
    if (callbacks == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "callbacks are NULL");
    // From here the state is ours: the table's destructor runs callbacks->destroy.
    auto table = std::make_shared<HostPolicyTable>();
    const std::size_t size = std::min(callbacks->struct_size, sizeof(cace_policy_callbacks));
    if (size < offsetof(cace_policy_callbacks, choose_victims) + sizeof(callbacks->choose_victims)) {
      table->callbacks.destroy = size >= offsetof(cace_policy_callbacks, destroy) + sizeof(callbacks->destroy)
                                     ? callbacks->destroy : nullptr;
      table->callbacks.state = callbacks->state;
      return Fail(error, CACE_INVALID_ARGUMENT, "struct_size is too small for cace_policy_callbacks");
    }
    std::memcpy(&table->callbacks, callbacks, size);
    if (options == nullptr) return NullOptions(error);
    auto text = Text(name, name_length, "name", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    if (table->callbacks.choose_victims == nullptr) {
      return Fail(error, CACE_INVALID_ARGUMENT, "choose_victims is required");
    }
    table->name = text->empty() ? "host" : std::string(*text);
    options->host_policy = std::move(table);
    return Ok(error);
  });
}

cace_code cace_engine_options_set_max_pending_requests(cace_engine_options* options, int64_t count,
                                                       cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (count < 1) return Fail(error, CACE_INVALID_ARGUMENT, "max_pending_requests must be >= 1");
  options->options.max_pending_requests = count;
  return Ok(error);
}

cace_code cace_engine_options_set_max_batch(cace_engine_options* options, int32_t sequences, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (sequences < 1) return Fail(error, CACE_INVALID_ARGUMENT, "max_batch must be >= 1");
  options->options.max_batch = sequences;
  return Ok(error);
}

cace_code cace_engine_options_set_compute_threads(cace_engine_options* options, int32_t threads, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (threads < 0) return Fail(error, CACE_INVALID_ARGUMENT, "compute_threads must be >= 0");
  options->options.compute_threads = threads;
  return Ok(error);
}

cace_code cace_engine_options_set_default_keep_alive(cace_engine_options* options, double seconds,
                                                     cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (std::isnan(seconds)) return Fail(error, CACE_INVALID_ARGUMENT, "keep-alive is NaN");
  options->options.default_keep_alive_seconds = seconds;
  return Ok(error);
}

cace_code cace_engine_options_set_host_cache_bytes(cace_engine_options* options, uint64_t bytes, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  options->options.host_cache_bytes = bytes;
  return Ok(error);
}

cace_code cace_engine_options_set_prefetch(cace_engine_options* options, int enabled, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  options->options.prefetch = enabled != 0;
  return Ok(error);
}

cace_code cace_engine_options_set_state_file(cace_engine_options* options, const char* path, size_t path_length,
                                             cace_error** error) {
  return Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    auto text = Text(path, path_length, "path", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    if (text->find('\0') != std::string_view::npos) {
      return Fail(error, CACE_INVALID_ARGUMENT, "the state file path holds a NUL byte");
    }
    options->options.state_file = std::string(*text);
    return Ok(error);
  });
}

cace_code cace_engine_options_set_warning_callback(cace_engine_options* options, cace_warning_callback on_warning,
                                                   void* user_data, cace_error** error) {
  return Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    if (on_warning == nullptr) {
      options->options.on_warning = nullptr;  // the engine's default: standard error
    } else {
      options->options.on_warning = [on_warning, user_data](const std::string& warning) {
        on_warning(user_data, warning.c_str(), warning.size());
      };
    }
    return Ok(error);
  });
}

cace_engine* cace_engine_create(const cace_engine_options* options, cace_error** error) {
  cace_engine* handle = nullptr;
  Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    cace::EngineOptions engine_options = options->options;
    if (options->host_policy != nullptr) {
      engine_options.custom_policy = [table = options->host_policy] { return cace::capi::MakeHostPolicy(table); };
    }
    auto engine = cace::Engine::Create(std::move(engine_options));
    if (!engine.ok()) return FromStatus(error, engine.status());
    handle = new cace_engine();
    handle->engine = *std::move(engine);
    return Ok(error);
  });
  return handle;
}

cace_code cace_engine_close(cace_engine* engine, cace_error** error) {
  return Guarded(error, [&] {
    if (engine == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "engine is NULL");
    std::unique_ptr<cace::Engine> closing;
    {
      std::unique_lock<std::mutex> lock(engine->mutex);
      engine->idle.wait(lock, [engine] { return engine->active_calls == 0; });
      closing = std::move(engine->engine);
    }
    closing.reset();  // ends pending requests; their callbacks now find the handle closed
    return Ok(error);
  });
}

void cace_engine_destroy(cace_engine* engine) {
  if (engine == nullptr) return;
  cace_engine_close(engine, nullptr);
  delete engine;
}

cace_model_options* cace_model_options_create(void) { return new (std::nothrow) cace_model_options(); }

void cace_model_options_destroy(cace_model_options* options) { delete options; }

cace_code cace_model_options_set_id(cace_model_options* options, const char* id, size_t id_length,
                                    cace_error** error) {
  return Guarded(error, [&] {
    if (options == nullptr) return NullOptions(error);
    auto text = Text(id, id_length, "id", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    options->options.id = std::string(*text);
    return Ok(error);
  });
}

cace_code cace_model_options_set_pin(cace_model_options* options, int pinned, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  options->options.pin = pinned != 0;
  return Ok(error);
}

cace_code cace_model_options_set_keep_alive(cace_model_options* options, double seconds, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  if (std::isnan(seconds)) return Fail(error, CACE_INVALID_ARGUMENT, "keep-alive is NaN");
  options->options.keep_alive_seconds = seconds;
  return Ok(error);
}

cace_code cace_model_options_set_priority(cace_model_options* options, int32_t priority, cace_error** error) {
  if (options == nullptr) return NullOptions(error);
  options->options.priority = priority;
  return Ok(error);
}

cace_code cace_engine_add_model(cace_engine* engine, const char* path, size_t path_length,
                                const cace_model_options* options, cace_error** error) {
  return Guarded(error, [&] {
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    if (options == nullptr) return NullOptions(error);
    auto text = Text(path, path_length, "path", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    return FromStatus(error, call.engine()->AddModel(std::string(*text), options->options));
  });
}

cace_code cace_engine_remove_model(cace_engine* engine, const char* id, size_t id_length, cace_error** error) {
  return ModelControl(engine, id, id_length, error,
                      [](cace::Engine& e, const std::string& model) { return e.RemoveModel(model); });
}

cace_code cace_engine_pin(cace_engine* engine, const char* id, size_t id_length, int pinned, cace_error** error) {
  return ModelControl(engine, id, id_length, error,
                      [pinned](cace::Engine& e, const std::string& model) { return e.Pin(model, pinned != 0); });
}

cace_code cace_engine_set_keep_alive(cace_engine* engine, const char* id, size_t id_length, double seconds,
                                     cace_error** error) {
  if (std::isnan(seconds)) return Fail(error, CACE_INVALID_ARGUMENT, "keep-alive is NaN");
  return ModelControl(engine, id, id_length, error,
                      [seconds](cace::Engine& e, const std::string& model) { return e.SetKeepAlive(model, seconds); });
}

cace_code cace_engine_set_priority(cace_engine* engine, const char* id, size_t id_length, int32_t priority,
                                   cace_error** error) {
  return ModelControl(engine, id, id_length, error,
                      [priority](cace::Engine& e, const std::string& model) { return e.SetPriority(model, priority); });
}

cace_code cace_engine_preload(cace_engine* engine, const char* id, size_t id_length, cace_error** error) {
  return ModelControl(engine, id, id_length, error,
                      [](cace::Engine& e, const std::string& model) { return e.Preload(model); });
}

cace_code cace_engine_unload(cace_engine* engine, const char* id, size_t id_length, cace_error** error) {
  return ModelControl(engine, id, id_length, error,
                      [](cace::Engine& e, const std::string& model) { return e.Unload(model); });
}

cace_code cace_engine_save_state(cace_engine* engine, cace_error** error) {
  return Guarded(error, [&] {
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    return FromStatus(error, call.engine()->SaveState());
  });
}

}  // extern "C"
