#include "cace/request_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace cace {

std::shared_ptr<RequestStream> RequestStream::Create(std::size_t max_pending_pieces) {
  return std::shared_ptr<RequestStream>(new RequestStream(max_pending_pieces));
}

RequestCallbacks RequestStream::Callbacks() {
  std::shared_ptr<RequestStream> self = shared_from_this();
  RequestCallbacks callbacks;
  callbacks.on_token = [self](const TokenPiece& piece) { return self->PushPiece(piece); };
  callbacks.on_done = [self](const RequestResult& result) { self->PushResult(result); };
  return callbacks;
}

absl::Status RequestStream::PushPiece(const TokenPiece& piece) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (abandoned_) return absl::CancelledError("the stream's reader went away");
    if (pending_pieces_ >= max_pending_pieces_) {
      overflowed_ = true;
      return absl::ResourceExhaustedError(
          absl::StrCat("the stream's reader fell ", max_pending_pieces_, " pieces behind"));
    }
    ++pending_pieces_;
    Event& event = events_.emplace_back();
    event.piece = piece;
  }
  changed_.notify_all();
  return absl::OkStatus();
}

void RequestStream::PushResult(const RequestResult& result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
    Event& event = events_.emplace_back();
    event.done = true;
    event.result = result;
  }
  changed_.notify_all();
}

void RequestStream::Abandon() {
  std::lock_guard<std::mutex> lock(mutex_);
  abandoned_ = true;
  std::erase_if(events_, [](const Event& event) { return !event.done; });
  pending_pieces_ = 0;
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

bool RequestStream::abandoned() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return abandoned_;
}

bool RequestStream::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

}  // namespace cace
