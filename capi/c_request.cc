// Requests: the request object, submit with callbacks, submit-and-poll streams, cancel, results.
#include <cmath>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "capi/c_internal.h"

using cace::capi::EngineCall;
using cace::capi::Fail;
using cace::capi::FromStatus;
using cace::capi::Guarded;
using cace::capi::Ok;
using cace::capi::Text;

namespace {

cace_code NullRequest(cace_error** error) { return Fail(error, CACE_INVALID_ARGUMENT, "request is NULL"); }

// Only the fields a host's struct_size covers whole are read; the rest stay empty (a size that
// ends inside a field must not give half a pointer).
cace_request_callbacks CopyCallbacks(const cace_request_callbacks* callbacks) {
  cace_request_callbacks copy{};
  if (callbacks == nullptr) return copy;
  const std::size_t size = callbacks->struct_size;
  auto covers = [size](std::size_t offset, std::size_t field) { return offset + field <= size; };
  if (covers(offsetof(cace_request_callbacks, user_data), sizeof copy.user_data)) copy.user_data = callbacks->user_data;
  if (covers(offsetof(cace_request_callbacks, on_token), sizeof copy.on_token)) copy.on_token = callbacks->on_token;
  if (covers(offsetof(cace_request_callbacks, on_done), sizeof copy.on_done)) copy.on_done = callbacks->on_done;
  return copy;
}

cace::RequestCallbacks ToEngineCallbacks(const cace_request_callbacks& c) {
  cace::RequestCallbacks callbacks;
  if (c.on_token != nullptr) {
    callbacks.on_token = [c](const cace::TokenPiece& piece) {
      const int32_t verdict = c.on_token(c.user_data, piece.id, piece.token, piece.text.data(), piece.text.size());
      if (verdict == 0) return absl::OkStatus();
      return absl::AbortedError(absl::StrCat("on_token returned ", verdict));
    };
  }
  if (c.on_done != nullptr) {
    callbacks.on_done = [c](const cace::RequestResult& result) {
      const cace_result view(result);
      c.on_done(c.user_data, &view);
    };
  }
  return callbacks;
}

const char* Piece(const std::string& text, size_t* length) {
  if (length != nullptr) *length = text.size();
  return text.c_str();
}

}  // namespace

extern "C" {

cace_request* cace_request_create(void) { return new (std::nothrow) cace_request(); }

void cace_request_destroy(cace_request* request) { delete request; }

cace_code cace_request_set_model(cace_request* request, const char* id, size_t id_length, cace_error** error) {
  return Guarded(error, [&] {
    if (request == nullptr) return NullRequest(error);
    auto text = Text(id, id_length, "id", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    request->request.model = std::string(*text);
    return Ok(error);
  });
}

cace_code cace_request_set_prompt(cace_request* request, const char* text, size_t text_length, cace_error** error) {
  return Guarded(error, [&] {
    if (request == nullptr) return NullRequest(error);
    auto prompt = Text(text, text_length, "text", error);
    if (!prompt) return CACE_INVALID_ARGUMENT;
    request->request.prompt = std::string(*prompt);
    request->request.prompt_tokens.clear();
    request->request.fill_in_middle = false;
    return Ok(error);
  });
}

cace_code cace_request_set_prompt_tokens(cace_request* request, const int32_t* tokens, size_t count,
                                         cace_error** error) {
  return Guarded(error, [&] {
    if (request == nullptr) return NullRequest(error);
    if (tokens == nullptr && count > 0) return Fail(error, CACE_INVALID_ARGUMENT, "tokens is NULL");
    if (count == 0) return Fail(error, CACE_INVALID_ARGUMENT, "no prompt tokens");
    request->request.prompt_tokens.assign(tokens, tokens + count);
    request->request.fill_in_middle = false;
    return Ok(error);
  });
}

cace_code cace_request_set_fill_in_middle(cace_request* request, const char* prefix, size_t prefix_length,
                                          const char* suffix, size_t suffix_length, cace_error** error) {
  return Guarded(error, [&] {
    if (request == nullptr) return NullRequest(error);
    auto before = Text(prefix, prefix_length, "prefix", error);
    if (!before) return CACE_INVALID_ARGUMENT;
    auto after = Text(suffix, suffix_length, "suffix", error);
    if (!after) return CACE_INVALID_ARGUMENT;
    request->request.fill_in_middle = true;
    request->request.fim_prefix = std::string(*before);
    request->request.fim_suffix = std::string(*after);
    request->request.prompt_tokens.clear();
    return Ok(error);
  });
}

cace_code cace_request_set_kind(cace_request* request, cace_task_kind kind, cace_error** error) {
  if (request == nullptr) return NullRequest(error);
  if (kind == CACE_TASK_AUTO) {
    request->request.kind.reset();
  } else if (kind >= CACE_TASK_COMPLETION && kind <= CACE_TASK_REASONING) {
    request->request.kind = cace::kAllTaskKinds[static_cast<std::size_t>(kind)];
  } else {
    return Fail(error, CACE_INVALID_ARGUMENT, "unknown task kind " + std::to_string(kind));
  }
  return Ok(error);
}

cace_code cace_request_set_max_tokens(cace_request* request, int32_t max_tokens, cace_error** error) {
  if (request == nullptr) return NullRequest(error);
  if (max_tokens < 1) return Fail(error, CACE_INVALID_ARGUMENT, "max_tokens must be >= 1");
  request->request.max_tokens = max_tokens;
  return Ok(error);
}

cace_code cace_request_set_sampling(cace_request* request, float temperature, float top_p, int32_t top_k,
                                    uint64_t seed, cace_error** error) {
  if (request == nullptr) return NullRequest(error);
  if (!(temperature >= 0) || !(top_p > 0 && top_p <= 1) || top_k < 0) {
    return Fail(error, CACE_INVALID_ARGUMENT, "sampling: temperature >= 0, 0 < top_p <= 1, top_k >= 0");
  }
  request->request.sampling = {.temperature = temperature, .top_p = top_p, .top_k = top_k, .seed = seed};
  return Ok(error);
}

cace_code cace_request_add_stop(cace_request* request, const char* stop, size_t stop_length, cace_error** error) {
  return Guarded(error, [&] {
    if (request == nullptr) return NullRequest(error);
    auto text = Text(stop, stop_length, "stop", error);
    if (!text) return CACE_INVALID_ARGUMENT;
    if (text->empty()) return Fail(error, CACE_INVALID_ARGUMENT, "a stop string is empty");
    request->request.stop.emplace_back(*text);
    return Ok(error);
  });
}

cace_code cace_request_set_deadline(cace_request* request, double seconds, cace_error** error) {
  if (request == nullptr) return NullRequest(error);
  if (!(seconds >= 0)) return Fail(error, CACE_INVALID_ARGUMENT, "the deadline must be >= 0 seconds");
  request->request.deadline_seconds = seconds;
  return Ok(error);
}

cace_code cace_request_set_keep_alive(cace_request* request, double seconds, cace_error** error) {
  if (request == nullptr) return NullRequest(error);
  if (std::isnan(seconds)) return Fail(error, CACE_INVALID_ARGUMENT, "keep-alive is NaN");
  request->request.keep_alive_seconds = seconds;
  return Ok(error);
}

cace_code cace_engine_submit(cace_engine* engine, const cace_request* request, const cace_request_callbacks* callbacks,
                             uint64_t* request_id, cace_error** error) {
  return Guarded(error, [&] {
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    if (request == nullptr) return NullRequest(error);
    auto id = call.engine()->Submit(request->request, ToEngineCallbacks(CopyCallbacks(callbacks)));
    if (!id.ok()) return FromStatus(error, id.status());
    if (request_id != nullptr) *request_id = *id;
    return Ok(error);
  });
}

cace_code cace_engine_cancel(cace_engine* engine, uint64_t request_id, int* was_pending, cace_error** error) {
  return Guarded(error, [&] {
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    const bool pending = call.engine()->Cancel(request_id);
    if (was_pending != nullptr) *was_pending = pending ? 1 : 0;
    return Ok(error);
  });
}

cace_code cace_engine_submit_stream(cace_engine* engine, const cace_request* request, cace_stream** stream,
                                    cace_error** error) {
  return Guarded(error, [&] {
    if (stream == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "stream is NULL");
    *stream = nullptr;
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    if (request == nullptr) return NullRequest(error);
    auto handle = std::make_unique<cace_stream>();
    handle->engine = engine;
    handle->events = cace::RequestStream::Create();
    auto id = call.engine()->Submit(request->request, handle->events->Callbacks());
    if (!id.ok()) return FromStatus(error, id.status());
    handle->id = *id;
    *stream = handle.release();
    return Ok(error);
  });
}

uint64_t cace_stream_request_id(const cace_stream* stream) { return stream == nullptr ? 0 : stream->id; }

cace_code cace_stream_next(cace_stream* stream, int64_t timeout_ms, cace_event** event, cace_error** error) {
  return Guarded(error, [&] {
    if (stream == nullptr || event == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "stream or event is NULL");
    *event = nullptr;
    if (stream->taken_done) return Fail(error, CACE_OUT_OF_RANGE, "the stream has ended");
    auto next = stream->events->Next(std::chrono::milliseconds(timeout_ms < 0 ? -1 : timeout_ms));
    if (!next) return Ok(error);  // timed out
    auto out = std::make_unique<cace_event>();
    out->event = *std::move(next);
    if (out->event.done) {
      out->result = cace_result(std::move(out->event.result));
      stream->taken_done = true;
    }
    *event = out.release();
    return Ok(error);
  });
}

void cace_stream_destroy(cace_stream* stream) {
  if (stream == nullptr) return;
  if (!stream->events->ended()) {
    stream->events->Abandon();
    cace_engine_cancel(stream->engine, stream->id, nullptr, nullptr);
  }
  delete stream;
}

cace_event_kind cace_event_get_kind(const cace_event* event) {
  return event != nullptr && event->event.done ? CACE_EVENT_DONE : CACE_EVENT_TOKEN;
}

const char* cace_event_text(const cace_event* event, size_t* length) {
  static const std::string kEmpty;
  return Piece(event == nullptr || event->event.done ? kEmpty : event->event.piece.text, length);
}

int32_t cace_event_token(const cace_event* event) {
  return event == nullptr || event->event.done ? 0 : event->event.piece.token;
}

const cace_result* cace_event_result(const cace_event* event) {
  return event != nullptr && event->event.done ? &event->result : nullptr;
}

void cace_event_free(cace_event* event) { delete event; }

uint64_t cace_result_id(const cace_result* result) { return result == nullptr ? 0 : result->value.id; }

cace_code cace_result_code(const cace_result* result) {
  return result == nullptr ? CACE_INVALID_ARGUMENT : static_cast<cace_code>(result->value.status.code());
}

const char* cace_result_message(const cace_result* result, size_t* length) {
  static const std::string kEmpty;
  return Piece(result == nullptr ? kEmpty : result->message, length);
}

cace_end_reason cace_result_reason(const cace_result* result) {
  if (result == nullptr) return CACE_END_ERROR;
  switch (result->value.reason) {
    case cace::EndReason::kStop: return CACE_END_STOP;
    case cace::EndReason::kLength: return CACE_END_LENGTH;
    case cace::EndReason::kCancelled: return CACE_END_CANCELLED;
    case cace::EndReason::kError: return CACE_END_ERROR;
  }
  return CACE_END_ERROR;
}

const char* cace_result_text(const cace_result* result, size_t* length) {
  static const std::string kEmpty;
  return Piece(result == nullptr ? kEmpty : result->value.text, length);
}

int64_t cace_result_prompt_tokens(const cace_result* result) {
  return result == nullptr ? 0 : result->value.usage.prompt_tokens;
}

int64_t cace_result_completion_tokens(const cace_result* result) {
  return result == nullptr ? 0 : result->value.usage.completion_tokens;
}

double cace_result_ttft_seconds(const cace_result* result) {
  return result == nullptr ? -1 : result->value.timings.first_token;
}

double cace_result_e2e_seconds(const cace_result* result) {
  return result == nullptr ? -1 : result->value.timings.end_to_end;
}

}  // extern "C"
