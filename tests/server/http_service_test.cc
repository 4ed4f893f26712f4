// The real HTTP service (tools/server/http_service.h) in-process, on a loopback ephemeral port
// over a tiny model, driven by cpp-httplib's own client from several threads at once: whole and
// streamed completions (the same greedy text both ways), chat completions, a client that
// disconnects mid-stream (its request is cancelled, not run to its end), a malformed body (400
// with a clear message). scripts/test.sh runs it under ThreadSanitizer too.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/engine/engine_testing.h"
#include "tests/engine/engine_test_support.h"
#include "tools/server/http_service.h"

namespace cace::server {
namespace {

using nlohmann::json;

// What a disconnected stream asks for: far more than it may stream before its cancel lands.
constexpr int kLongRequest = 400;

// How many batch steps each request took part in (the compute worker counts, the test reads).
class StepCounter {
 public:
  void Count(const std::vector<RequestId>& batch) {
    std::lock_guard<std::mutex> lock(mu_);
    for (RequestId id : batch) ++steps_[id];
  }
  int Of(RequestId id) {
    std::lock_guard<std::mutex> lock(mu_);
    return steps_[id];
  }

 private:
  std::mutex mu_;
  std::map<RequestId, int> steps_;
};

// The service listening on 127.0.0.1:<free port> until destroyed. Each batch step sleeps a
// millisecond, so that a long request takes longer than its client's disconnect takes to notice.
class LiveService {
 public:
  LiveService() {
    const std::string config_text = json{
        {"limits", {{"max_tokens", kLongRequest}, {"request_deadline_s", 60}}},
        {"engine", {{"memory_budget_bytes", 64 << 20}, {"compute_threads", 1}, {"max_batch", 8}}},
        {"models", json::array({json{{"id", "tiny"},
                                      {"path", testing::TinyModelDir("http", 0)},
                                      {"chat_template_file", std::string(CACE_SOURCE_DIR) +
                                                                 "/tests/server/templates/qwen2_5_chatml.jinja"}}})},
    }.dump();
    absl::StatusOr<ServerConfig> config = ParseServerConfig(config_text, "inline.json");
    REQUIRE(config.ok());
    absl::StatusOr<EngineOptions> options = EngineOptionsFor(*config);
    REQUIRE(options.ok());
    EngineHooks hooks;
    hooks.before_step = [this](const std::vector<RequestId>& batch, const std::vector<RequestId>&) {
      steps_.Count(batch);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    absl::StatusOr<std::unique_ptr<Engine>> engine = CreateEngineForTest(*std::move(options), std::move(hooks));
    REQUIRE(engine.ok());
    REQUIRE(AddConfigModels(**engine, *config).ok());
    service_ = std::make_unique<HttpService>(*std::move(config), *std::move(engine));
    server_.new_task_queue = [] { return new httplib::ThreadPool(8); };
    service_->Register(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    listener_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LiveService() {
    server_.stop();
    service_->Stop();
    listener_.join();
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(60));
    return client;
  }
  StepCounter& steps() { return steps_; }

 private:
  StepCounter steps_;  // before the engine (inside service_), whose compute worker counts into it
  std::unique_ptr<HttpService> service_;
  httplib::Server server_;
  int port_ = -1;
  std::thread listener_;
};

// One POST's answer; status -1 when no answer came (the error's name in body).
struct Answer {
  int status = -1;
  std::string body;
};

Answer Post(const LiveService& live, const std::string& path, const std::string& body) {
  httplib::Client client = live.Client();
  httplib::Result result = client.Post(path.c_str(), body, "application/json");
  if (!result) return {-1, httplib::to_string(result.error())};
  return {result->status, result->body};
}

// The text of a server-sent-events completion stream, and whether it ended as it should: a
// finish_reason, then [DONE].
struct Streamed {
  std::string text;
  std::optional<std::string> finish_reason;
  bool done = false;
  bool well_formed = true;
};

Streamed ReadStream(const std::string& body) {
  Streamed s;
  std::size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const std::size_t end = body.find("\n\n", at);
    const std::string data = body.substr(at + 6, end - at - 6);
    at = end;
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    const json chunk = json::parse(data, nullptr, false);
    if (chunk.is_discarded() || !chunk.contains("choices") || s.done) {
      s.well_formed = false;
      continue;
    }
    for (const json& choice : chunk["choices"]) {
      s.text += choice.value("text", "");
      if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) {
        s.finish_reason = choice["finish_reason"].get<std::string>();
      }
    }
  }
  return s;
}

// A client's whole exchange, checked on the test's thread afterwards (Catch's assertions are not
// for other threads).
struct ClientRun {
  Answer whole, streamed, chat;
};

ClientRun RunClient(const LiveService& live, int i) {
  const std::string prompt = "def f" + std::to_string(i) + "(x):";
  ClientRun run;
  json completion{{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", 8}, {"temperature", 0}};
  run.whole = Post(live, "/v1/completions", completion.dump());
  completion["stream"] = true;
  run.streamed = Post(live, "/v1/completions", completion.dump());
  run.chat = Post(live, "/v1/chat/completions",
                  json{{"model", "tiny"},
                       {"messages", json::array({json{{"role", "user"}, {"content", "hi " + std::to_string(i)}}})},
                       {"max_tokens", 6},
                       {"temperature", 0}}
                      .dump());
  return run;
}

// Reads a long stream until its first piece, then hangs up; the request's id (from the chunk's
// "cmpl-<id>"), 0 if none came.
RequestId DisconnectAfterFirstPiece(const LiveService& live) {
  httplib::Client client = live.Client();
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/completions";
  request.set_header("Content-Type", "application/json");
  // Greedy: the tiny model then streams all it was asked for (no early end of text).
  request.body =
      json{{"model", "tiny"}, {"prompt", "z"}, {"max_tokens", kLongRequest}, {"temperature", 0}, {"stream", true}}
          .dump();
  std::string received;
  RequestId id = 0;
  request.content_receiver = [&](const char* data, std::size_t length, std::uint64_t, std::uint64_t) {
    received.append(data, length);
    const std::size_t at = received.find("\"id\":\"cmpl-");
    if (at == std::string::npos) return true;
    id = std::stoull(received.substr(at + 11));
    return false;  // hang up
  };
  (void)client.send(request);  // fails: the client cancelled it
  return id;
}

// Requests that ended with an error, summed over the task kinds (cace's own metrics).
long ErrorsEnded(const LiveService& live) {
  httplib::Client client = live.Client();
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) return -1;
  long errors = 0;
  std::size_t at = 0;
  const std::string needle = "status=\"error\"} ";
  while ((at = result->body.find(needle, at)) != std::string::npos) {
    at += needle.size();
    errors += std::stol(result->body.substr(at));
  }
  return errors;
}

TEST_CASE("concurrent clients of the real HTTP service, one of them hanging up mid-stream") {
  LiveService live;
  // One exchange before the client threads start, so that the client library's statics exist
  // before them (see the suppression above).
  REQUIRE(live.Client().Get("/health")->status == 200);
  constexpr int kClients = 6;
  std::vector<ClientRun> runs(kClients);
  Answer malformed;
  RequestId hung_up = 0;
  {
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) clients.emplace_back([&, i] { runs[i] = RunClient(live, i); });
    clients.emplace_back([&] { hung_up = DisconnectAfterFirstPiece(live); });
    clients.emplace_back([&] { malformed = Post(live, "/v1/completions", R"({"model": "tiny", "prompt": )"); });
    for (std::thread& t : clients) t.join();
  }

  for (int i = 0; i < kClients; ++i) {
    CAPTURE(i);
    const ClientRun& run = runs[i];
    REQUIRE(run.whole.status == 200);
    const json whole = json::parse(run.whole.body);
    const std::string text = whole["choices"][0]["text"].get<std::string>();
    CHECK(whole["usage"]["completion_tokens"].get<int>() >= 1);
    CHECK(whole["usage"]["completion_tokens"].get<int>() <= 8);
    CHECK(whole["choices"][0]["finish_reason"].is_string());

    REQUIRE(run.streamed.status == 200);
    const Streamed streamed = ReadStream(run.streamed.body);
    CHECK(streamed.well_formed);
    CHECK(streamed.done);
    CHECK(streamed.finish_reason == whole["choices"][0]["finish_reason"].get<std::string>());
    CHECK(streamed.text == text);  // greedy: the same text whole or streamed

    REQUIRE(run.chat.status == 200);
    const json chat = json::parse(run.chat.body);
    CHECK(chat["object"] == "chat.completion");
    CHECK(chat["choices"][0]["message"]["role"] == "assistant");
    CHECK(chat["usage"]["completion_tokens"].get<int>() >= 1);
  }

  CHECK(malformed.status == 400);
  const json error = json::parse(malformed.body, nullptr, false);
  REQUIRE(!error.is_discarded());
  CHECK(error["error"]["type"] == "invalid_request_error");
  CHECK(error["error"]["message"].get<std::string>().find("not valid JSON") != std::string::npos);

  // The request of the client that hung up ends (cancelled: the one request that failed) long
  // before the tokens it asked for.
  REQUIRE(hung_up != 0);
  long errors = 0;
  for (int i = 0; i < 200 && (errors = ErrorsEnded(live)) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(errors == 1);
  CHECK(live.steps().Of(hung_up) < kLongRequest);
}

TEST_CASE("the engine section's host cache, prefetch and state file reach the engine's options") {
  absl::StatusOr<ServerConfig> config = ParseServerConfig(
      R"({"engine": {"memory_budget_bytes": 1048576, "host_cache_bytes": 2097152, "prefetch": true,
                     "state_file": "learned.state"},
          "models": [{"id": "a", "path": "a"}]})",
      "inline.json");
  REQUIRE(config.ok());
  absl::StatusOr<EngineOptions> options = EngineOptionsFor(*config);
  REQUIRE(options.ok());
  CHECK(options->host_cache_bytes == 2097152);
  CHECK(options->prefetch);
  CHECK(options->state_file == "learned.state");
}

}  // namespace
}  // namespace cace::server
