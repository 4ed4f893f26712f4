#include "tools/server/openai_response.h"

#include <nlohmann/json.hpp>

namespace cace::server {
namespace {

using nlohmann::json;

// Generated text may end inside a UTF-8 character only if the model produced invalid bytes;
// those are replaced rather than failing the reply.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json Header(const ResponseHeader& header, bool chunk) {
  const char* object = header.endpoint == Endpoint::kCompletions ? "text_completion"
                       : chunk                                   ? "chat.completion.chunk"
                                                                 : "chat.completion";
  return {{"id", header.id}, {"object", object}, {"created", header.created}, {"model", header.model}};
}

json UsageJson(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

json Finish(std::optional<std::string_view> finish_reason) {
  return finish_reason ? json(std::string(*finish_reason)) : json(nullptr);
}

}  // namespace

std::string WholeResponse(const ResponseHeader& header, std::string_view text,
                          std::string_view finish_reason, const Usage& usage) {
  json body = Header(header, /*chunk=*/false);
  json choice = {{"index", 0}, {"finish_reason", std::string(finish_reason)}};
  if (header.endpoint == Endpoint::kCompletions) {
    choice["text"] = std::string(text);
    choice["logprobs"] = nullptr;
  } else {
    choice["message"] = {{"role", "assistant"}, {"content", std::string(text)}};
  }
  body["choices"] = json::array({choice});
  body["usage"] = UsageJson(usage);
  return Dump(body);
}

std::string StreamChunk(const ResponseHeader& header, std::string_view text,
                        std::optional<std::string_view> finish_reason, bool first, bool usage_null) {
  json body = Header(header, /*chunk=*/true);
  json choice = {{"index", 0}, {"finish_reason", Finish(finish_reason)}};
  if (header.endpoint == Endpoint::kCompletions) {
    choice["text"] = std::string(text);
    choice["logprobs"] = nullptr;
  } else {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || !finish_reason) delta["content"] = std::string(text);
    choice["delta"] = delta;
  }
  body["choices"] = json::array({choice});
  if (usage_null) body["usage"] = nullptr;
  return Dump(body);
}

std::string UsageChunk(const ResponseHeader& header, const Usage& usage) {
  json body = Header(header, /*chunk=*/true);
  body["choices"] = json::array();
  body["usage"] = UsageJson(usage);
  return Dump(body);
}

std::string SseEvent(std::string_view data) {
  std::string event;
  event.reserve(data.size() + 8);
  event.append("data: ").append(data).append("\n\n");
  return event;
}

}  // namespace cace::server
