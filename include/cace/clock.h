// The injected clock. An engine reads time only through this interface, so a replay on a virtual
// clock and a real run drive the same code, and a test can move an Engine's time by hand
// (EngineOptions::clock).
#ifndef CACE_CLOCK_H_
#define CACE_CLOCK_H_

#include <atomic>
#include <chrono>

#include "cace/types.h"

namespace cace {

// Now() may be called from any thread at once.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Seconds Now() const = 0;
};

// Monotonic wall time, counted from the clock's construction.
class SteadyClock final : public Clock {
 public:
  SteadyClock() : start_(std::chrono::steady_clock::now()) {}
  Seconds Now() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// A clock that moves only when told to: the tests'. Read from any thread; moved by one thread at a
// time. An Engine on it learns that it moved at its next call (see EngineOptions::clock).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Seconds start = 0.0) : now_(start) {}
  Seconds Now() const override { return now_.load(); }
  void Set(Seconds t) { now_.store(t); }
  void Advance(Seconds dt) { now_.store(now_.load() + dt); }

 private:
  std::atomic<Seconds> now_;
};

}  // namespace cace

#endif  // CACE_CLOCK_H_
