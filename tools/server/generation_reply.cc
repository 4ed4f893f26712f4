#include "tools/server/generation_reply.h"

#include <httplib.h>

#include <chrono>
#include <memory>

#include "cace/request_stream.h"
#include "tools/server/api_error.h"

namespace cace::server {
namespace {

// How often a streaming reply that has nothing to send checks that its client is still there.
constexpr std::chrono::milliseconds kLivenessCheck(200);

std::string_view FinishReason(EndReason reason) { return reason == EndReason::kLength ? "length" : "stop"; }

Usage UsageOf(const RequestResult& result) {
  return {static_cast<int>(result.usage.prompt_tokens), static_cast<int>(result.usage.completion_tokens)};
}

// A request that ended with an error; a cancel nobody asked for means the server is stopping.
ApiError ResultError(const RequestResult& result) {
  if (result.status.code() == absl::StatusCode::kCancelled) {
    return {503, "server_error", "The request was cancelled: the server is shutting down", "", "unavailable"};
  }
  return FromStatus(result.status);
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The state one streaming reply carries between calls of httplib's content provider.
struct StreamingReply {
  ResponseHeader header;
  std::shared_ptr<RequestStream> events;
  bool include_usage = false;
  std::string echo;
  bool first = true;

  bool Write(httplib::DataSink& sink, const std::string& event) { return sink.write(event.data(), event.size()); }

  // One call of the provider: sends what has come, or checks the client is there. False drops
  // the connection (the releaser then cancels the request).
  bool Provide(httplib::DataSink& sink) {
    std::optional<RequestStream::Event> event = events->Next(kLivenessCheck);
    if (!event) return sink.is_writable();
    if (events->overflowed()) return false;
    if (!event->done) {
      if (event->piece.text.empty()) return true;
      std::string text = first ? echo + event->piece.text : event->piece.text;
      const bool ok = Write(sink, SseEvent(StreamChunk(header, text, std::nullopt, first, include_usage)));
      first = false;
      return ok;
    }
    const RequestResult& result = event->result;
    if (result.status.ok()) {
      if (!Write(sink, SseEvent(StreamChunk(header, first ? echo : "", FinishReason(result.reason), first,
                                            include_usage)))) {
        return false;
      }
      if (include_usage && !Write(sink, SseEvent(UsageChunk(header, UsageOf(result))))) return false;
    } else if (!Write(sink, SseEvent(ResultError(result).ToJson()))) {
      return false;
    }
    if (!Write(sink, std::string(kSseDone))) return false;
    sink.done();
    return true;
  }
};

}  // namespace

void SendError(httplib::Response& response, const ApiError& error) {
  response.status = error.http_status;
  response.set_content(error.ToJson(), "application/json");
}

void ReplyWithGeneration(Engine& engine, GenerationJob job, const ServerConfig& config,
                         const std::atomic<bool>& stopping, httplib::Response& response) {
  std::shared_ptr<RequestStream> events = RequestStream::Create(config.max_buffered_pieces);
  const std::string model = job.request.model;
  absl::StatusOr<RequestId> id = engine.Submit(std::move(job.request), events->Callbacks());
  if (!id.ok()) {
    // A request the model cannot serve as asked (fill-in-the-middle on a vocabulary without FIM
    // tokens) is the client's to change: 400, not the 409 of a control that conflicts.
    if (id.status().code() == absl::StatusCode::kFailedPrecondition) {
      return SendError(response, BadRequest(std::string(id.status().message())));
    }
    return SendError(response, FromStatus(id.status()));
  }
  ResponseHeader header{job.endpoint,
                        (job.endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-") + std::to_string(*id),
                        UnixNow(), model};
  if (!job.stream) {
    // cpp-httplib gives a handler no sight of its connection, so a non-streaming request runs to
    // its end or its deadline even when its client has gone.
    std::optional<RequestStream::Event> event;
    bool cancelled = false;
    do {
      event = events->Next(kLivenessCheck);
      if (!event && stopping && !cancelled) {
        engine.Cancel(*id);
        cancelled = true;
      }
    } while (!event || !event->done);
    const RequestResult& result = event->result;
    if (!result.status.ok()) return SendError(response, ResultError(result));
    response.set_content(WholeResponse(header, job.echo + result.text, FinishReason(result.reason), UsageOf(result)),
                         "application/json");
    return;
  }
  auto reply = std::make_shared<StreamingReply>(
      StreamingReply{.header = header, .events = events, .include_usage = job.include_usage, .echo = job.echo});
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider(
      "text/event-stream", [reply](std::size_t, httplib::DataSink& sink) { return reply->Provide(sink); },
      [&engine, request = *id, events](bool) {
        // The client went (or was dropped): nothing more is queued for it, and the request ends
        // now even if it streams nothing more (still waiting for its model).
        if (!events->ended()) {
          events->Abandon();
          engine.Cancel(request);
        }
      });
}

}  // namespace cace::server
