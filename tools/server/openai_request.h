// The bodies of /v1/completions and /v1/chat/completions, read into plain structs and checked
// against the server's limits before anything reaches the engine. Unknown fields are ignored (as
// OpenAI-compatible servers do: clients send fields like "user" or "logit_bias"); fields cace
// cannot honour in the way asked (n > 1, best_of, logprobs, tools) are refused by name.
#ifndef CACE_TOOLS_SERVER_OPENAI_REQUEST_H_
#define CACE_TOOLS_SERVER_OPENAI_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tools/server/api_error.h"
#include "tools/server/chat_template.h"

namespace cace::server {

// What the server accepts; from the config file's "limits" (server_config.h).
struct RequestLimits {
  std::size_t max_body_bytes = 4u << 20;
  std::size_t max_prompt_bytes = 1u << 20;  // prompt + suffix, or all message contents together
  int max_tokens = 4096;                    // a larger max_tokens is refused
  int default_max_tokens = 256;             // when the request names none
  std::size_t max_messages = 256;
  std::size_t max_stop_sequences = 4;       // OpenAI's limit
  int max_json_depth = 32;
};

struct SamplingRequest {
  int max_tokens = 0;  // resolved: the request's, else RequestLimits::default_max_tokens
  double temperature = 1.0;
  double top_p = 1.0;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
};

// Ollama's keep_alive: a number of seconds or a duration ("30s", "5m", "1h", "250ms"); negative
// keeps the model loaded until told otherwise, 0 unloads it once the request is done.
struct KeepAlive {
  bool forever = false;
  double seconds = 0;
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  std::optional<std::string> suffix;  // fill-in-the-middle: prompt is the prefix
  SamplingRequest sampling;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<KeepAlive> keep_alive;
  bool echo = false;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  SamplingRequest sampling;
  bool stream = false;
  bool include_usage = false;
  std::optional<KeepAlive> keep_alive;
};

// Ollama's /api/generate and the cace controls (/api/pin, /api/unpin, /api/unload): a model id
// and, for /api/generate, a keep_alive; a prompt there is refused (generation goes through /v1).
struct ModelControlRequest {
  std::string model;
  std::optional<KeepAlive> keep_alive;
};

template <typename T>
using ParseResult = std::variant<T, ApiError>;

ParseResult<CompletionRequest> ParseCompletionRequest(std::string_view body, const RequestLimits& limits);
ParseResult<ChatRequest> ParseChatRequest(std::string_view body, const RequestLimits& limits);
ParseResult<ModelControlRequest> ParseModelControlRequest(std::string_view body,
                                                          const RequestLimits& limits);

// "5m" -> 300 s; a bare number is seconds. Refuses anything else.
std::optional<KeepAlive> ParseKeepAliveText(std::string_view text);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_OPENAI_REQUEST_H_
