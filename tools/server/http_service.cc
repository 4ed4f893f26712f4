#include "tools/server/http_service.h"

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "cace/cace_weight_names.h"
#include "tools/server/api_error.h"
#include "tools/server/generation_reply.h"
#include "tools/server/model_chat_template.h"
#include "tools/server/openai_request.h"
#include "tools/server/vllm_metrics.h"

namespace cace::server {
namespace {

using nlohmann::json;

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Rfc3339(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Compares without stopping at the first difference, so the time taken tells nothing of the key.
bool SameKey(const std::string& given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i % std::max<std::size_t>(key.size(), 1)]);
  }
  return diff == 0;
}

// Ollama's per-request keep_alive: a duration for this request's model; "forever" is the
// model's keep-alive until told otherwise.
void ApplyKeepAlive(Engine& engine, const std::string& model, const std::optional<KeepAlive>& keep_alive,
                    Request& request) {
  if (!keep_alive) return;
  if (keep_alive->forever) {
    (void)engine.SetKeepAlive(model, -1);
  } else {
    request.keep_alive_seconds = keep_alive->seconds;
  }
}

Sampling ToSampling(const SamplingRequest& s) {
  Sampling sampling;
  sampling.temperature = static_cast<float>(s.temperature);
  sampling.top_p = static_cast<float>(s.top_p);
  // Without a seed each request samples differently, as OpenAI's do.
  sampling.seed = s.seed ? *s.seed : std::random_device{}();
  return sampling;
}

template <typename T>
const T* Parsed(const ParseResult<T>& result, httplib::Response& response) {
  if (const auto* error = std::get_if<ApiError>(&result)) {
    SendError(response, *error);
    return nullptr;
  }
  return &std::get<T>(result);
}

}  // namespace

absl::StatusOr<EngineOptions> EngineOptionsFor(const ServerConfig& config) {
  EngineOptions options;
  options.memory_budget_bytes = config.engine.memory_budget_bytes;
  options.policy = config.engine.policy;
  options.max_batch = config.engine.max_batch;
  options.max_pending_requests = config.engine.max_pending_requests;
  options.compute_threads = config.engine.compute_threads;
  options.host_cache_bytes = config.engine.host_cache_bytes;
  options.prefetch = config.engine.prefetch;
  options.state_file = config.engine.state_file;  // the engine writes it when the service ends
  if (config.engine.default_keep_alive) {
    options.default_keep_alive_seconds =
        config.engine.default_keep_alive->forever ? -1 : config.engine.default_keep_alive->seconds;
  }
  if (!config.engine.cace_weights.empty()) {
    CaceWeights weights;
    for (const auto& [name, value] : config.engine.cace_weights) {
      absl::Status set = SetCaceWeight(weights, name, value);
      if (!set.ok()) return set;
    }
    options.cace_weights = weights;
  }
  return options;
}

absl::Status AddConfigModels(Engine& engine, const ServerConfig& config) {
  for (const ModelEntry& model : config.models) {
    ModelOptions model_options{.id = model.id, .pin = model.pin, .priority = model.priority};
    if (model.keep_alive) model_options.keep_alive_seconds = model.keep_alive->forever ? -1 : model.keep_alive->seconds;
    absl::Status added = engine.AddModel(model.path, model_options);
    if (!added.ok()) return absl::Status(added.code(), "model " + model.id + ": " + std::string(added.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Engine>> StartEngine(const ServerConfig& config) {
  absl::StatusOr<EngineOptions> options = EngineOptionsFor(config);
  if (!options.ok()) return options.status();
  auto engine = Engine::Create(*std::move(options));
  if (!engine.ok()) return engine.status();
  absl::Status added = AddConfigModels(**engine, config);
  if (!added.ok()) return added;
  return engine;
}

HttpService::HttpService(ServerConfig config, std::unique_ptr<Engine> engine)
    : config_(std::move(config)), engine_(std::move(engine)) {
  for (const ModelEntry& model : config_.models) {
    models_.emplace(model.id, ModelInfo{LoadModelChatTemplate(model.path, model.chat_template_file)});
  }
}

HttpService::~HttpService() = default;

bool HttpService::Authorized(const httplib::Request& request) const {
  if (config_.api_key.empty()) return true;
  const std::string header = request.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) return false;
  return SameKey(header.substr(kBearer.size()), config_.api_key);
}

void HttpService::Register(httplib::Server& server) {
  server.set_payload_max_length(config_.limits.max_body_bytes);
  const auto write_timeout = std::chrono::duration<double>(config_.stream_write_timeout_s);
  server.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(write_timeout));
  server.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(write_timeout));
  server.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    const bool guarded = request.path.starts_with("/v1/") || request.path.starts_with("/api/");
    if (guarded && !Authorized(request)) {
      SendError(response, Unauthorized());
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { Completions(q, r); });
  server.Post("/v1/chat/completions",
              [this](const httplib::Request& q, httplib::Response& r) { ChatCompletions(q, r); });
  server.Get("/v1/models", [this](const httplib::Request&, httplib::Response& r) { Models(r); });
  server.Get("/health", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) { Metrics(r); });
  server.Get("/api/ps", [this](const httplib::Request&, httplib::Response& r) { Ps(r); });
  server.Post("/api/generate", [this](const httplib::Request& q, httplib::Response& r) { LoadOrUnload(q, r); });
  for (const char* action : {"pin", "unpin", "unload"}) {
    server.Post(std::string("/api/") + action, [this, action](const httplib::Request& q, httplib::Response& r) {
      Control(q, r, action);
    });
  }
}

void HttpService::Completions(const httplib::Request& http_request, httplib::Response& response) {
  auto parsed = ParseCompletionRequest(http_request.body, config_.limits);
  const CompletionRequest* request = Parsed(parsed, response);
  if (request == nullptr) return;
  if (!models_.contains(request->model)) return SendError(response, ModelNotFound(request->model));
  GenerationJob job{.endpoint = Endpoint::kCompletions, .stream = request->stream,
                    .include_usage = request->include_usage};
  Request& engine_request = job.request;
  engine_request.model = request->model;
  if (request->suffix) {
    engine_request.fill_in_middle = true;
    engine_request.fim_prefix = request->prompt;
    engine_request.fim_suffix = *request->suffix;
  } else {
    engine_request.prompt = request->prompt;
  }
  if (request->echo) job.echo = request->prompt;
  Generate(std::move(job), request->sampling, request->keep_alive, response);
}

void HttpService::ChatCompletions(const httplib::Request& http_request, httplib::Response& response) {
  auto parsed = ParseChatRequest(http_request.body, config_.limits);
  const ChatRequest* request = Parsed(parsed, response);
  if (request == nullptr) return;
  auto model = models_.find(request->model);
  if (model == models_.end()) return SendError(response, ModelNotFound(request->model));
  if (!model->second.chat_template.ok()) {
    return SendError(response, BadRequest("Model '" + request->model + "' cannot chat: " +
                                              std::string(model->second.chat_template.status().message()),
                                          "model"));
  }
  auto prompt = RenderChat(*model->second.chat_template, request->messages, /*add_generation_prompt=*/true);
  if (!prompt.ok()) return SendError(response, BadRequest(std::string(prompt.status().message()), "messages"));
  GenerationJob job{.endpoint = Endpoint::kChat, .stream = request->stream, .include_usage = request->include_usage};
  Request& engine_request = job.request;
  engine_request.model = request->model;
  engine_request.prompt = *std::move(prompt);
  engine_request.kind = TaskKind::kChat;
  Generate(std::move(job), request->sampling, request->keep_alive, response);
}

void HttpService::Generate(GenerationJob job, const SamplingRequest& sampling,
                           const std::optional<KeepAlive>& keep_alive, httplib::Response& response) {
  Request& engine_request = job.request;
  engine_request.max_tokens = sampling.max_tokens;
  engine_request.sampling = ToSampling(sampling);
  engine_request.stop = sampling.stop;
  engine_request.deadline_seconds = config_.request_deadline_s;
  ApplyKeepAlive(*engine_, engine_request.model, keep_alive, engine_request);
  ReplyWithGeneration(*engine_, std::move(job), config_, stopping_, response);
}

void HttpService::Models(httplib::Response& response) const {
  json data = json::array();
  for (const ModelEntry& model : config_.models) {
    data.push_back({{"id", model.id}, {"object", "model"}, {"created", 0}, {"owned_by", "cace"}});
  }
  response.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
}

void HttpService::Metrics(httplib::Response& response) const {
  const MetricsSnapshot snapshot = engine_->Metrics();
  std::string text = VllmMetricsText(snapshot, engine_->ListModels(), UnixSeconds());
  text += PrometheusText(snapshot);
  response.set_content(text, "text/plain; version=0.0.4");
}

void HttpService::Ps(httplib::Response& response) const {
  const double now = UnixSeconds();
  json models = json::array();
  for (const ResidencyEntry& entry : engine_->ListModels()) {
    // Ollama lists the models loaded; one held in the host cache must be loaded again to serve.
    if (entry.state == Residency::kAbsent || entry.state == Residency::kHostCache) continue;
    json row = {{"name", entry.model},
                {"model", entry.model},
                {"size", entry.weight_bytes + entry.kv_allocated_bytes},
                {"size_vram", entry.weight_bytes + entry.kv_allocated_bytes},
                {"state", ResidencyName(entry.state)},
                {"pinned", entry.pinned},
                {"priority", entry.priority},
                {"in_flight", entry.in_flight},
                {"queued", entry.queued},
                {"keep_alive_seconds", entry.keep_alive_seconds}};
    if (entry.keep_alive_seconds >= 0 && entry.last_use_seconds_ago >= 0) {
      row["expires_at"] = Rfc3339(now - entry.last_use_seconds_ago + entry.keep_alive_seconds);
    }
    models.push_back(std::move(row));
  }
  response.set_content(json{{"models", models}}.dump(), "application/json");
}

void HttpService::LoadOrUnload(const httplib::Request& http_request, httplib::Response& response) {
  auto parsed = ParseModelControlRequest(http_request.body, config_.limits);
  const ModelControlRequest* request = Parsed(parsed, response);
  if (request == nullptr) return;
  if (!models_.contains(request->model)) return SendError(response, ModelNotFound(request->model));
  const bool unload = request->keep_alive && !request->keep_alive->forever && request->keep_alive->seconds == 0;
  absl::Status status;
  if (unload) {
    status = engine_->Unload(request->model);
  } else {
    if (request->keep_alive) {
      status = engine_->SetKeepAlive(request->model, request->keep_alive->forever ? -1 : request->keep_alive->seconds);
    }
    if (status.ok()) status = engine_->Preload(request->model);
  }
  if (!status.ok()) return SendError(response, FromStatus(status));
  response.set_content(json{{"model", request->model},
                            {"created_at", Rfc3339(UnixSeconds())},
                            {"response", ""},
                            {"done", true},
                            {"done_reason", unload ? "unload" : "load"}}
                           .dump(),
                       "application/json");
}

void HttpService::Control(const httplib::Request& http_request, httplib::Response& response,
                          const std::string& action) {
  auto parsed = ParseModelControlRequest(http_request.body, config_.limits);
  const ModelControlRequest* request = Parsed(parsed, response);
  if (request == nullptr) return;
  if (!models_.contains(request->model)) return SendError(response, ModelNotFound(request->model));
  const absl::Status status = action == "unload" ? engine_->Unload(request->model)
                                                 : engine_->Pin(request->model, action == "pin");
  if (!status.ok()) return SendError(response, FromStatus(status));
  response.set_content(json{{"model", request->model}, {"done", true}, {"action", action}}.dump(), "application/json");
}

}  // namespace cace::server
