#include "cace/request_stream.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <thread>

#include "cace/cace_weight_names.h"

namespace cace {
namespace {

using std::chrono::milliseconds;

TEST_CASE("a stream gives the pieces in order, then the result, then nothing") {
  auto stream = RequestStream::Create();
  RequestCallbacks callbacks = stream->Callbacks();
  CHECK(!stream->Next(milliseconds(0)).has_value());  // nothing yet: times out
  CHECK(callbacks.on_token({.id = 7, .token = 1, .text = "a"}).ok());
  CHECK(callbacks.on_token({.id = 7, .token = 2, .text = "b"}).ok());
  RequestResult result;
  result.id = 7;
  result.text = "ab";
  callbacks.on_done(result);
  CHECK(stream->ended());
  auto first = stream->Next(milliseconds(0));
  REQUIRE(first.has_value());
  CHECK(!first->done);
  CHECK(first->piece.text == "a");
  CHECK(stream->Next(milliseconds(0))->piece.token == 2);
  auto done = stream->Next(milliseconds(0));
  REQUIRE(done.has_value());
  CHECK(done->done);
  CHECK(done->result.text == "ab");
  CHECK(!stream->Next(milliseconds(-1)).has_value());  // after the result: at once, even unbounded
}

TEST_CASE("a reader waiting on another thread wakes for the event") {
  auto stream = RequestStream::Create();
  RequestCallbacks callbacks = stream->Callbacks();
  std::thread engine_thread([&] {
    std::this_thread::sleep_for(milliseconds(20));
    callbacks.on_done(RequestResult{.id = 1, .status = absl::CancelledError("cancelled")});
  });
  auto event = stream->Next(milliseconds(-1));
  engine_thread.join();
  REQUIRE(event.has_value());
  CHECK(event->result.status.code() == absl::StatusCode::kCancelled);
}

TEST_CASE("past its bound a stream refuses the piece (which ends the request), the result still comes") {
  auto stream = RequestStream::Create(2);
  RequestCallbacks callbacks = stream->Callbacks();
  CHECK(callbacks.on_token({.id = 1, .token = 0, .text = "x"}).ok());
  CHECK(callbacks.on_token({.id = 1, .token = 1, .text = "y"}).ok());
  CHECK(!stream->overflowed());
  const absl::Status refused = callbacks.on_token({.id = 1, .token = 2, .text = "z"});
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(refused.message()) == "the stream's reader fell 2 pieces behind");
  CHECK(stream->overflowed());
  callbacks.on_done(RequestResult{.id = 1, .status = refused});
  std::string read;
  std::optional<RequestStream::Event> event;
  while ((event = stream->Next(milliseconds(0))) && !event->done) read += event->piece.text;
  CHECK(read == "xy");
  REQUIRE(event.has_value());
  CHECK(event->result.status.code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("a reader that keeps up is never refused, whatever the request's length") {
  auto stream = RequestStream::Create(2);
  RequestCallbacks callbacks = stream->Callbacks();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(callbacks.on_token({.id = 1, .token = i, .text = "x"}).ok());
    REQUIRE(stream->Next(milliseconds(0)).has_value());
  }
  CHECK(!stream->overflowed());
}

TEST_CASE("an abandoned stream drops what it holds, refuses the next piece, still takes the result") {
  auto stream = RequestStream::Create();
  RequestCallbacks callbacks = stream->Callbacks();
  CHECK(callbacks.on_token({.id = 3, .token = 1, .text = "a"}).ok());
  stream->Abandon();
  CHECK(stream->abandoned());
  const absl::Status refused = callbacks.on_token({.id = 3, .token = 2, .text = "b"});
  CHECK(refused.code() == absl::StatusCode::kCancelled);
  CHECK(std::string(refused.message()) == "the stream's reader went away");
  CHECK(!stream->Next(milliseconds(0)).has_value());  // the queued piece is gone
  stream->Abandon();                                   // idempotent
  callbacks.on_done(RequestResult{.id = 3, .status = refused});
  CHECK(stream->ended());
  auto done = stream->Next(milliseconds(0));
  REQUIRE(done.has_value());
  CHECK(done->done);
}

TEST_CASE("Abandon from another thread while the engine's thread streams") {
  auto stream = RequestStream::Create();
  RequestCallbacks callbacks = stream->Callbacks();
  std::thread engine_thread([&] {
    int i = 0;
    while (callbacks.on_token({.id = 4, .token = i++, .text = "x"}).ok()) std::this_thread::yield();
    callbacks.on_done(RequestResult{.id = 4, .status = absl::CancelledError("the stream's reader went away")});
  });
  REQUIRE(stream->Next(milliseconds(-1)).has_value());  // one piece read, then the reader goes
  stream->Abandon();
  auto done = stream->Next(milliseconds(-1));  // only the result: what was queued is dropped
  engine_thread.join();
  REQUIRE(done.has_value());
  CHECK(done->done);
  CHECK(done->result.status.code() == absl::StatusCode::kCancelled);
}

TEST_CASE("the callbacks keep the stream alive after the host lets go") {
  RequestCallbacks callbacks;
  std::weak_ptr<RequestStream> weak;
  {
    auto stream = RequestStream::Create();
    weak = stream;
    callbacks = stream->Callbacks();
  }
  CHECK(!weak.expired());
  CHECK(callbacks.on_token({.id = 1, .text = "still here"}).ok());
  callbacks = {};
  CHECK(weak.expired());
}

TEST_CASE("CACE weights by name: every name sets its field, unknown names and NaN are refused") {
  CaceWeights weights;
  CHECK(SetCaceWeight(weights, "latency_chat", 0.7).ok());
  CHECK(weights.latency_sensitivity[KindIndex(TaskKind::kChat)] == 0.7);
  CHECK(SetCaceWeight(weights, "drain_weight", 3).ok());
  CHECK(weights.drain_weight == 3);
  for (const char* name : {"latency_completion", "latency_reasoning", "output_scale", "load_exponent",
                           "size_exponent", "frequency_weight", "demand_weight", "queue_weight", "base_demand",
                           "kind_prior"}) {
    CHECK(SetCaceWeight(weights, name, 0.5).ok());
  }
  CHECK(weights.kind_prior == 0.5);
  CHECK(SetCaceWeight(weights, "nope", 1).code() == absl::StatusCode::kNotFound);
  const CaceWeights before = weights;
  CHECK(SetCaceWeight(weights, "queue_weight", std::nan("")).code() == absl::StatusCode::kInvalidArgument);
  CHECK(weights.queue_weight == before.queue_weight);
}

}  // namespace
}  // namespace cace
