// Submit-and-poll over the Engine's callbacks: a RequestStream queues a request's token pieces and
// its result as the engine's threads deliver them, and the host takes them, one at a time, on its
// own thread with a timeout. The engine's threads never wait on the host: the queue holds what the
// host has not taken yet, up to a bound; a piece past the bound is refused (on_token returns
// ResourceExhausted), which ends the request with that status, so a reader too slow never makes
// the queue grow without limit. A reader that goes away calls Abandon. Used by the C ABI's
// cace_stream and by the HTTP server, and fit for any host that would rather not run code on the
// engine's threads.
//
//   auto stream = cace::RequestStream::Create();
//   auto id = engine->Submit(request, stream->Callbacks());
//   while (auto event = stream->Next(std::chrono::milliseconds(-1))) { ... if done: break; }
#ifndef CACE_REQUEST_STREAM_H_
#define CACE_REQUEST_STREAM_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "cace/request.h"

namespace cace {

class RequestStream : public std::enable_shared_from_this<RequestStream> {
 public:
  struct Event {
    bool done = false;     // false: a token piece; true: the result, always the last event
    TokenPiece piece;      // when !done
    RequestResult result;  // when done
  };

  // Token pieces queued and not yet taken, at most, unless the host says otherwise: a reader this
  // far behind has stopped reading.
  static constexpr std::size_t kDefaultMaxPendingPieces = 4096;

  // `max_pending_pieces`: the bound (0 refuses every piece). A piece past it is refused with
  // ResourceExhausted and the stream counts as overflowed; the request ends with that status, and
  // its result (whose text holds everything streamed) still comes.
  static std::shared_ptr<RequestStream> Create(std::size_t max_pending_pieces = kDefaultMaxPendingPieces);

  // Callbacks for Engine::Submit; they keep the stream alive until the request ends.
  RequestCallbacks Callbacks();

  // The next event, waiting up to `timeout` (negative: as long as it takes); nullopt when none came
  // in time, and at once after the result has been taken. Any one thread at a time.
  std::optional<Event> Next(std::chrono::milliseconds timeout);

  // The reader has gone (a client that disconnected): the pieces queued are dropped, Next gives
  // only the result from now on, and the next piece the engine streams is refused with Cancelled,
  // which ends the request. A request that streams nothing more (still queued or loading) ends only
  // when it would have streamed, so a host that holds the engine also cancels it (Engine::Cancel)
  // to free its place at once. Any thread; idempotent.
  void Abandon();

  bool overflowed() const;
  bool abandoned() const;
  bool ended() const;  // the engine delivered the result (taken or not)

 private:
  explicit RequestStream(std::size_t max_pending_pieces) : max_pending_pieces_(max_pending_pieces) {}
  absl::Status PushPiece(const TokenPiece& piece);
  void PushResult(const RequestResult& result);

  const std::size_t max_pending_pieces_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::size_t pending_pieces_ = 0;
  bool overflowed_ = false;
  bool abandoned_ = false;
  bool ended_ = false;
  bool result_taken_ = false;
};

}  // namespace cace

#endif  // CACE_REQUEST_STREAM_H_
