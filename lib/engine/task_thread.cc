#include "lib/engine/task_thread.h"

#include <utility>

namespace cace {

void TaskThread::Start(std::function<Clock::time_point()> next_wake, Task on_wake) {
  next_wake_ = std::move(next_wake);
  on_wake_ = std::move(on_wake);
  thread_ = std::thread([this] { Loop(); });
}

TaskThread::~TaskThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void TaskThread::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

bool TaskThread::HasQueued() {
  std::lock_guard<std::mutex> lock(mu_);
  return !tasks_.empty();
}

void TaskThread::Loop() {
  for (;;) {
    const Clock::time_point wake = next_wake_ ? next_wake_() : Clock::time_point::max();
    // Checked before every task, so a thread kept busy by posts still wakes on time; on_wake_ must
    // move next_wake_ past now.
    if (on_wake_ && wake != Clock::time_point::max() && Clock::now() >= wake) {
      on_wake_();
      continue;
    }
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (tasks_.empty() && !stopping_) {
        auto ready = [&] { return !tasks_.empty() || stopping_; };
        if (wake == Clock::time_point::max()) {
          cv_.wait(lock, ready);
        } else {
          cv_.wait_until(lock, wake, ready);
        }
        // A task that ends the wait runs after the timers are looked at again: `wake` was read
        // before the wait, and the engine's clock may have moved meanwhile (a manual clock in a
        // test jumps), so what came due is done first.
        if (!tasks_.empty() && next_wake_) continue;
      }
      if (tasks_.empty()) {
        if (stopping_) return;
        continue;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace cace
