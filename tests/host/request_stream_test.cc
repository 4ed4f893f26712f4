#include "cace/request_stream.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "cace/cace_weight_names.h"

namespace cace {
namespace {

using std::chrono::milliseconds;

TEST_CASE("a stream gives the pieces in order, then the result, then nothing") {
  auto stream = RequestStream::Create();
  RequestCallbacks callbacks = stream->Callbacks();
  CHECK(!stream->Next(milliseconds(0)).has_value());  // nothing yet: times out
  callbacks.on_token({.id = 7, .token = 1, .text = "a"});
  callbacks.on_token({.id = 7, .token = 2, .text = "b"});
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

TEST_CASE("past its bound a stream drops pieces and says it overflowed, the result still comes") {
  auto stream = RequestStream::Create(2);
  RequestCallbacks callbacks = stream->Callbacks();
  for (int i = 0; i < 5; ++i) callbacks.on_token({.id = 1, .token = i, .text = "x"});
  CHECK(stream->overflowed());
  callbacks.on_done(RequestResult{.id = 1});
  int pieces = 0;
  while (auto event = stream->Next(milliseconds(0))) {
    if (event->done) break;
    ++pieces;
  }
  CHECK(pieces == 2);
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
  callbacks.on_token({.id = 1, .text = "still here"});
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
