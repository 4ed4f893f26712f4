// The server's config file (JSON): where to listen, the API key, request limits, the engine's
// budget and policy, and the models, each named by the id requests use. Paths are relative to the
// config file's folder; requests name models only by id, so nothing a client sends reaches the
// file system.
//
//   {
//     "listen": {"host": "127.0.0.1", "port": 8080},
//     "api_key_env": "CACE_API_KEY",            // or "api_key": "..."; none: no key asked
//     "limits": {"max_body_bytes": 4194304, "max_prompt_bytes": 1048576, "max_tokens": 4096,
//                "default_max_tokens": 256, "max_messages": 256, "request_deadline_s": 600,
//                "stream_write_timeout_s": 10, "max_buffered_pieces": 4096},
//     "engine": {"memory_budget_bytes": 8589934592, "policy": "cace", "max_batch": 32,
//                "max_pending_requests": 1024, "compute_threads": 0, "default_keep_alive": "5m",
//                "host_cache_bytes": 17179869184, "prefetch": true, "state_file": "cace.state",
//                "cace_weights": {"load_cost": 1.0, ...}},
//     "models": [{"id": "coder", "path": "models/coder.gguf", "pin": false, "keep_alive": "10m",
//                 "priority": 0, "chat_template_file": "templates/chatml.jinja"}]
//   }
#ifndef CACE_TOOLS_SERVER_SERVER_CONFIG_H_
#define CACE_TOOLS_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/server/openai_request.h"

namespace cace::server {

struct ModelEntry {
  std::string id;
  std::string path;  // resolved against the config file's folder
  bool pin = false;
  std::optional<KeepAlive> keep_alive;
  int priority = 0;
  std::string chat_template_file;  // replaces the model's own chat template; resolved like path
};

struct EngineSection {
  std::uint64_t memory_budget_bytes = 0;
  std::string policy = "cace";
  int max_batch = 32;
  std::int64_t max_pending_requests = 1024;
  int compute_threads = 0;
  std::optional<KeepAlive> default_keep_alive;
  std::map<std::string, double> cace_weights;  // by CaceWeights field name; checked at wiring
  std::uint64_t host_cache_bytes = 0;  // EngineOptions::host_cache_bytes; 0: no host cache
  bool prefetch = false;
  // Resolved against the config file's folder, which must hold the folder it names; empty: none.
  std::string state_file;
};

struct ServerConfig {
  std::string host = "127.0.0.1";  // loopback unless the config says otherwise
  int port = 8080;
  std::string api_key;             // empty: no Authorization asked
  RequestLimits limits;
  double request_deadline_s = 600;       // every request ends by then (504 after it)
  double stream_write_timeout_s = 10;    // a client that reads nothing for this long is dropped
  std::size_t max_buffered_pieces = 4096;  // pieces queued for a slow reader before it is dropped
  EngineSection engine;
  std::vector<ModelEntry> models;
};

// `text` is the file's content, `path` its name (errors name it; relative model paths resolve
// against its folder). The API key may come from the environment variable named by api_key_env.
absl::StatusOr<ServerConfig> ParseServerConfig(std::string_view text, const std::string& path);
absl::StatusOr<ServerConfig> ReadServerConfig(const std::string& path);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_SERVER_CONFIG_H_
