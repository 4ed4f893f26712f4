// Submit-and-poll over the Engine's callbacks: a RequestStream queues a request's token pieces and
// its result as the engine's threads deliver them, and the host takes them, one at a time, on its
// own thread with a timeout. The engine's threads never wait on the host: the queue holds what the
// host has not taken yet (up to a bound, past which the stream marks itself overflowed, and the
// host, too slow a reader, is expected to cancel). Used by the C ABI's cace_stream and by the
// HTTP server, and fit for any host that would rather not run code on the engine's threads.
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
#include <limits>
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

  // `max_pending_pieces`: token pieces queued before the stream counts as overflowed (further
  // pieces are then dropped; the result, whose text holds everything, still comes).
  static std::shared_ptr<RequestStream> Create(
      std::size_t max_pending_pieces = std::numeric_limits<std::size_t>::max());

  // Callbacks for Engine::Submit; they keep the stream alive until the request ends.
  RequestCallbacks Callbacks();

  // The next event, waiting up to `timeout` (negative: as long as it takes); nullopt when none came
  // in time, and at once after the result has been taken. Any one thread at a time.
  std::optional<Event> Next(std::chrono::milliseconds timeout);

  bool overflowed() const;
  bool ended() const;  // the engine delivered the result (taken or not)

 private:
  explicit RequestStream(std::size_t max_pending_pieces) : max_pending_pieces_(max_pending_pieces) {}
  void Push(Event event);

  const std::size_t max_pending_pieces_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::size_t pending_pieces_ = 0;
  bool overflowed_ = false;
  bool ended_ = false;
  bool result_taken_ = false;
};

}  // namespace cace

#endif  // CACE_REQUEST_STREAM_H_
