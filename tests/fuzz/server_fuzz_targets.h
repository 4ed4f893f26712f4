// The server's parsers of untrusted input as fuzz targets: request bodies (/v1/completions,
// /v1/chat/completions, the model controls) and chat templates (a model file's text). Shared by
// the libFuzzer binaries and by tests/server/fuzz_corpus_test.cc, which replays the seed corpora
// in the normal build. Each checks what a parse promises, and aborts when a promise is broken.
#ifndef CACE_TESTS_FUZZ_SERVER_FUZZ_TARGETS_H_
#define CACE_TESTS_FUZZ_SERVER_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tools/server/chat_template.h"
#include "tools/server/openai_request.h"

namespace cace::fuzz {

inline void Require(bool condition) {
  if (!condition) std::abort();
}

inline void CheckError(const server::ApiError& error) {
  Require(error.http_status >= 400 && error.http_status < 600);
  Require(nlohmann::json::accept(error.ToJson()));
}

inline void CheckSampling(const server::SamplingRequest& s, const server::RequestLimits& limits) {
  Require(s.max_tokens >= 1 && s.max_tokens <= limits.max_tokens);
  Require(s.temperature >= 0 && s.temperature <= 2);
  Require(s.top_p > 0 && s.top_p <= 1);
  Require(s.stop.size() <= limits.max_stop_sequences);
  for (const auto& stop : s.stop) Require(!stop.empty());
}

inline int FuzzServerRequest(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  server::RequestLimits limits;
  limits.max_body_bytes = 1 << 16;
  limits.max_prompt_bytes = 1 << 12;
  limits.max_tokens = 512;
  limits.default_max_tokens = 16;
  auto completion = server::ParseCompletionRequest(body, limits);
  if (auto* request = std::get_if<server::CompletionRequest>(&completion)) {
    CheckSampling(request->sampling, limits);
    Require(request->prompt.size() + request->suffix.value_or("").size() <= limits.max_prompt_bytes);
    Require(!request->include_usage || request->stream);
  } else {
    CheckError(std::get<server::ApiError>(completion));
  }
  auto chat = server::ParseChatRequest(body, limits);
  if (auto* request = std::get_if<server::ChatRequest>(&chat)) {
    CheckSampling(request->sampling, limits);
    Require(!request->messages.empty() && request->messages.size() <= limits.max_messages);
    for (const auto& m : request->messages) {
      Require(m.role == "system" || m.role == "user" || m.role == "assistant");
    }
  } else {
    CheckError(std::get<server::ApiError>(chat));
  }
  auto control = server::ParseModelControlRequest(body, limits);
  if (auto* error = std::get_if<server::ApiError>(&control)) CheckError(*error);
  return 0;
}

// The input is a template's text: recognised or refused, and a recognised one renders a fixed
// conversation (or refuses it) without crashing.
inline int FuzzChatTemplate(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)server::TemplateStringLiterals(text);
  auto chat_template = server::RecognizeChatTemplate(text, "<s>", "</s>");
  if (!chat_template.ok()) return 0;
  const std::vector<server::ChatMessage> messages = {
      {"system", "S"}, {"user", " u "}, {"assistant", "a"}, {"user", "q"}};
  auto rendered = server::RenderChat(*chat_template, messages, true);
  if (rendered.ok()) Require(rendered->find("q") != std::string::npos);
  return 0;
}

}  // namespace cace::fuzz

#endif  // CACE_TESTS_FUZZ_SERVER_FUZZ_TARGETS_H_
