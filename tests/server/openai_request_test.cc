#include "tools/server/openai_request.h"

#include <catch2/catch.hpp>
#include <string>

namespace cace::server {
namespace {

template <typename T>
const T& Ok(const ParseResult<T>& result) {
  if (const auto* error = std::get_if<ApiError>(&result)) FAIL(error->message);
  return std::get<T>(result);
}

template <typename T>
ApiError Err(const ParseResult<T>& result) {
  REQUIRE(std::holds_alternative<ApiError>(result));
  return std::get<ApiError>(result);
}

TEST_CASE("a completion request with every field is read into the struct") {
  const RequestLimits limits;
  auto request = Ok(ParseCompletionRequest(
      R"({"model": "coder", "prompt": "def f(", "suffix": "\n  return x", "max_tokens": 32,
          "temperature": 0.2, "top_p": 0.9, "stop": ["\n\n", "```"], "seed": 7, "stream": true,
          "stream_options": {"include_usage": true}, "keep_alive": "5m", "user": "ignored"})",
      limits));
  CHECK(request.model == "coder");
  CHECK(request.prompt == "def f(");
  CHECK(request.suffix == "\n  return x");
  CHECK(request.sampling.max_tokens == 32);
  CHECK(request.sampling.temperature == 0.2);
  CHECK(request.sampling.top_p == 0.9);
  CHECK(request.sampling.stop == std::vector<std::string>{"\n\n", "```"});
  CHECK(request.sampling.seed == 7u);
  CHECK(request.stream);
  CHECK(request.include_usage);
  REQUIRE(request.keep_alive.has_value());
  CHECK(request.keep_alive->seconds == 300);
}

TEST_CASE("defaults: max_tokens from the limits, no stream, temperature 1") {
  RequestLimits limits;
  limits.default_max_tokens = 99;
  auto request = Ok(ParseCompletionRequest(R"({"model": "m", "prompt": ["one"]})", limits));
  CHECK(request.prompt == "one");
  CHECK(request.sampling.max_tokens == 99);
  CHECK(!request.stream);
  CHECK(request.sampling.temperature == 1.0);
  CHECK(!request.suffix.has_value());
  CHECK(!request.keep_alive.has_value());
}

TEST_CASE("bad bodies are 400 with the field named") {
  const RequestLimits limits;
  CHECK(Err(ParseCompletionRequest("{not json", limits)).http_status == 400);
  CHECK(Err(ParseCompletionRequest("[1]", limits)).http_status == 400);
  CHECK(Err(ParseCompletionRequest(R"({"prompt": "x"})", limits)).param == "model");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m"})", limits)).param == "prompt");
  CHECK(Err(ParseCompletionRequest(R"({"model": 3, "prompt": "x"})", limits)).param == "model");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "max_tokens": 0})", limits)).param ==
        "max_tokens");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "max_tokens": 1.5})", limits)).param ==
        "max_tokens");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "temperature": 3})", limits)).param ==
        "temperature");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "top_p": 0})", limits)).param == "top_p");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "stop": [1]})", limits)).param == "stop");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "stop": ["a","b","c","d","e"]})",
                                   limits)).param == "stop");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "n": 2})", limits)).param == "n");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": ["a", "b"]})", limits)).param == "prompt");
  CHECK(Err(ParseCompletionRequest(
                R"({"model": "m", "prompt": "x", "stream_options": {"include_usage": true}})", limits))
            .param == "stream_options");
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "keep_alive": "soon"})", limits))
            .param == "keep_alive");
  // Invalid UTF-8 inside a string is not JSON.
  CHECK(Err(ParseCompletionRequest("{\"model\": \"m\", \"prompt\": \"\xff\"}", limits)).http_status == 400);
}

TEST_CASE("the limits: body size 413, prompt size 400 context_length_exceeded, max_tokens, depth") {
  RequestLimits limits;
  limits.max_body_bytes = 64;
  CHECK(Err(ParseCompletionRequest(std::string(65, ' '), limits)).http_status == 413);
  limits.max_body_bytes = 1 << 20;
  limits.max_prompt_bytes = 4;
  ApiError long_prompt = Err(ParseCompletionRequest(R"({"model": "m", "prompt": "abc", "suffix": "de"})", limits));
  CHECK(long_prompt.http_status == 400);
  CHECK(long_prompt.code == "context_length_exceeded");
  limits.max_prompt_bytes = 100;
  limits.max_tokens = 10;
  CHECK(Err(ParseCompletionRequest(R"({"model": "m", "prompt": "x", "max_tokens": 11})", limits)).param ==
        "max_tokens");
  std::string deep = R"({"model": "m", "prompt": "x", "extra": )" + std::string(100, '[') +
                     std::string(100, ']') + "}";
  CHECK(Err(ParseCompletionRequest(deep, limits)).http_status == 400);
}

TEST_CASE("a chat request: string and text-part contents, roles checked, max_completion_tokens") {
  const RequestLimits limits;
  auto request = Ok(ParseChatRequest(
      R"({"model": "chat", "messages": [{"role": "system", "content": "Be brief."},
          {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
          "max_completion_tokens": 12, "stream": true})",
      limits));
  REQUIRE(request.messages.size() == 2);
  CHECK(request.messages[0].role == "system");
  CHECK(request.messages[1].content == "Hi there");
  CHECK(request.sampling.max_tokens == 12);
  CHECK(request.stream);
  CHECK(Err(ParseChatRequest(R"({"model": "m", "messages": []})", limits)).param == "messages");
  CHECK(Err(ParseChatRequest(R"({"model": "m", "messages": [{"role": "tool", "content": "x"}]})", limits))
            .param == "messages");
  CHECK(Err(ParseChatRequest(R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
                             limits)).param == "messages");
  CHECK(Err(ParseChatRequest(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": []})",
                             limits)).param == "tools");
}

TEST_CASE("keep_alive text: units, bare seconds, negative forever") {
  CHECK(ParseKeepAliveText("30s")->seconds == 30);
  CHECK(ParseKeepAliveText("250ms")->seconds == 0.25);
  CHECK(ParseKeepAliveText("2h")->seconds == 7200);
  CHECK(ParseKeepAliveText("45")->seconds == 45);
  CHECK(ParseKeepAliveText("-1")->forever);
  CHECK(!ParseKeepAliveText("").has_value());
  CHECK(!ParseKeepAliveText("m").has_value());
  CHECK(!ParseKeepAliveText("5 m").has_value());
  CHECK(!ParseKeepAliveText("inf").has_value());
}

TEST_CASE("model controls: model required, keep_alive 0 kept, a prompt refused") {
  const RequestLimits limits;
  auto unload = Ok(ParseModelControlRequest(R"({"model": "m", "keep_alive": 0})", limits));
  REQUIRE(unload.keep_alive.has_value());
  CHECK(unload.keep_alive->seconds == 0);
  CHECK(!unload.keep_alive->forever);
  CHECK(Ok(ParseModelControlRequest(R"({"model": "m"})", limits)).model == "m");
  CHECK(Err(ParseModelControlRequest(R"({"model": "m", "prompt": "hi"})", limits)).param == "prompt");
  CHECK(Err(ParseModelControlRequest(R"({})", limits)).param == "model");
}

}  // namespace
}  // namespace cace::server
