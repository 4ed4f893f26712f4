#include "tools/server/openai_response.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tools/server/api_error.h"

namespace cace::server {
namespace {

using nlohmann::json;

const ResponseHeader kCompletion{Endpoint::kCompletions, "cmpl-1", 1700000000, "coder"};
const ResponseHeader kChat{Endpoint::kChat, "chatcmpl-1", 1700000000, "chat"};

TEST_CASE("whole responses in OpenAI's shapes, usage summed") {
  json completion = json::parse(WholeResponse(kCompletion, "x = 1", "length", {5, 3}));
  CHECK(completion["object"] == "text_completion");
  CHECK(completion["choices"][0]["text"] == "x = 1");
  CHECK(completion["choices"][0]["finish_reason"] == "length");
  CHECK(completion["usage"]["total_tokens"] == 8);
  json chat = json::parse(WholeResponse(kChat, "Hello", "stop", {2, 1}));
  CHECK(chat["object"] == "chat.completion");
  CHECK(chat["choices"][0]["message"]["role"] == "assistant");
  CHECK(chat["choices"][0]["message"]["content"] == "Hello");
}

TEST_CASE("stream chunks: role in the first chat delta, finish_reason at the end, usage null or a usage chunk") {
  json first = json::parse(StreamChunk(kChat, "He", std::nullopt, /*first=*/true, /*usage_null=*/true));
  CHECK(first["object"] == "chat.completion.chunk");
  CHECK(first["choices"][0]["delta"]["role"] == "assistant");
  CHECK(first["choices"][0]["delta"]["content"] == "He");
  CHECK(first["choices"][0]["finish_reason"].is_null());
  CHECK(first.contains("usage"));
  CHECK(first["usage"].is_null());
  json last = json::parse(StreamChunk(kChat, "", "stop", false, false));
  CHECK(last["choices"][0]["finish_reason"] == "stop");
  CHECK(!last["choices"][0]["delta"].contains("role"));
  CHECK(!last.contains("usage"));
  json usage = json::parse(UsageChunk(kCompletion, {4, 2}));
  CHECK(usage["choices"].empty());
  CHECK(usage["usage"]["completion_tokens"] == 2);
  json text = json::parse(StreamChunk(kCompletion, "ab", std::nullopt, true, false));
  CHECK(text["choices"][0]["text"] == "ab");
}

TEST_CASE("server-sent events framing and invalid UTF-8 replaced, not thrown") {
  CHECK(SseEvent("{}") == "data: {}\n\n");
  CHECK(kSseDone == "data: [DONE]\n\n");
  json chunk = json::parse(StreamChunk(kCompletion, "\xff", std::nullopt, true, false));
  CHECK(chunk["choices"][0]["text"] == "\xEF\xBF\xBD");
}

TEST_CASE("errors: OpenAI's object, the status per engine code") {
  json body = json::parse(ModelNotFound("nope").ToJson());
  CHECK(body["error"]["code"] == "model_not_found");
  CHECK(body["error"]["type"] == "invalid_request_error");
  CHECK(body["error"]["param"] == "model");
  CHECK(json::parse(BadRequest("x").ToJson())["error"]["code"].is_null());
  CHECK(ModelNotFound("x").http_status == 404);
  CHECK(FromStatus(absl::NotFoundError("m")).http_status == 404);
  CHECK(FromStatus(absl::InvalidArgumentError("m")).http_status == 400);
  CHECK(FromStatus(absl::OutOfRangeError("m")).http_status == 400);
  CHECK(FromStatus(absl::OutOfRangeError("m")).code == "context_length_exceeded");
  CHECK(FromStatus(absl::FailedPreconditionError("pinned")).http_status == 409);
  CHECK(FromStatus(absl::ResourceExhaustedError("m")).http_status == 429);
  CHECK(FromStatus(absl::DeadlineExceededError("m")).http_status == 504);
  CHECK(FromStatus(absl::UnavailableError("m")).http_status == 503);
  CHECK(FromStatus(absl::InternalError("m")).http_status == 500);
  CHECK(Unauthorized().http_status == 401);
}

}  // namespace
}  // namespace cace::server
