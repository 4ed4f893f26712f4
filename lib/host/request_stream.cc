#include "cace/request_stream.h"

#include <utility>

namespace cace {

std::shared_ptr<RequestStream> RequestStream::Create(std::size_t max_pending_pieces) {
  return std::shared_ptr<RequestStream>(new RequestStream(max_pending_pieces));
}

RequestCallbacks RequestStream::Callbacks() {
  std::shared_ptr<RequestStream> self = shared_from_this();
  RequestCallbacks callbacks;
  callbacks.on_token = [self](const TokenPiece& piece) {
    Event event;
    event.piece = piece;
    self->Push(std::move(event));
  };
  callbacks.on_done = [self](const RequestResult& result) {
    Event event;
    event.done = true;
    event.result = result;
    self->Push(std::move(event));
  };
  return callbacks;
}

void RequestStream::Push(Event event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.done) {
      ended_ = true;
    } else if (pending_pieces_ >= max_pending_pieces_) {
      overflowed_ = true;
      return;
    } else {
      ++pending_pieces_;
    }
    events_.push_back(std::move(event));
  }
  changed_.notify_all();
}

std::optional<RequestStream::Event> RequestStream::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (result_taken_) return std::nullopt;
  auto ready = [this] { return !events_.empty(); };
  if (timeout.count() < 0) {
    changed_.wait(lock, ready);
  } else if (!changed_.wait_for(lock, timeout, ready)) {
    return std::nullopt;
  }
  Event event = std::move(events_.front());
  events_.pop_front();
  if (event.done) {
    result_taken_ = true;
  } else {
    --pending_pieces_;
  }
  return event;
}

bool RequestStream::overflowed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return overflowed_;
}

bool RequestStream::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

}  // namespace cace
