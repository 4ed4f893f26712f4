// The routes of the OpenAI-compatible server over one Engine:
//   POST /v1/completions, /v1/chat/completions   (JSON, or server-sent events with "stream")
//   GET  /v1/models, /health, /metrics (vLLM names, then cace's own), /api/ps (the residency, as
//        Ollama's)
//   POST /api/generate {"model", "keep_alive"}   (Ollama's: an empty request preloads; keep_alive
//        0 unloads), /api/pin, /api/unpin, /api/unload {"model"}
// With an API key configured, /v1/* and /api/* need "Authorization: Bearer <key>" (401 without);
// /health and /metrics stay open for probes and scrapers.
#ifndef CACE_TOOLS_SERVER_HTTP_SERVICE_H_
#define CACE_TOOLS_SERVER_HTTP_SERVICE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cace/engine.h"
#include "tools/server/chat_template.h"
#include "tools/server/generation_reply.h"
#include "tools/server/server_config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace cace::server {

class HttpService {
 public:
  // The engine must already hold the config's models (see StartEngine in main.cc).
  HttpService(ServerConfig config, std::unique_ptr<Engine> engine);
  ~HttpService();

  // Routes, limits and timeouts on `server` (which must outlive nothing here: the service
  // outlives the server's listening).
  void Register(httplib::Server& server);

  // Cancels the requests still waiting for their whole reply (streaming ones end as their
  // connections close); call after httplib::Server::stop.
  void Stop() { stopping_ = true; }

 private:
  struct ModelInfo {
    absl::StatusOr<ChatTemplate> chat_template;  // the error a chat request gets when absent
  };

  bool Authorized(const httplib::Request& request) const;
  void Completions(const httplib::Request& request, httplib::Response& response);
  void ChatCompletions(const httplib::Request& request, httplib::Response& response);
  void Models(httplib::Response& response) const;
  void Metrics(httplib::Response& response) const;
  void Ps(httplib::Response& response) const;
  // The sampling, stop strings, deadline and keep-alive every generation shares, then the reply.
  void Generate(GenerationJob job, const SamplingRequest& sampling, const std::optional<KeepAlive>& keep_alive,
                httplib::Response& response);
  // Ollama's /api/generate without a prompt: preload, or unload with keep_alive 0.
  void LoadOrUnload(const httplib::Request& request, httplib::Response& response);
  void Control(const httplib::Request& request, httplib::Response& response, const std::string& action);

  ServerConfig config_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, ModelInfo> models_;
  std::atomic<bool> stopping_{false};
};

// Creates the engine from the config and adds its models (pinned ones start loading): the two
// steps below, which tests take apart to give the engine hooks of their own.
absl::StatusOr<std::unique_ptr<Engine>> StartEngine(const ServerConfig& config);
absl::StatusOr<EngineOptions> EngineOptionsFor(const ServerConfig& config);  // its engine section
absl::Status AddConfigModels(Engine& engine, const ServerConfig& config);   // its models, in order

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_HTTP_SERVICE_H_
