// A thread that runs posted closures one at a time, in the order posted. The engine's scheduler,
// load worker and compute worker are each one: the state a closure touches belongs to its thread,
// so no lock guards it. The scheduler's also wakes at a time it asks for (keep-alive, deadlines).
#ifndef CACE_LIB_ENGINE_TASK_THREAD_H_
#define CACE_LIB_ENGINE_TASK_THREAD_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cace {

class TaskThread {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  TaskThread() = default;
  // Runs what is already posted, then joins.
  ~TaskThread();
  // Starts the thread. `on_wake`, when given, runs on it whenever the time last returned by
  // `next_wake` (asked before every task) has come; Clock::time_point::max() means no wake-up.
  void Start(std::function<Clock::time_point()> next_wake = nullptr, Task on_wake = nullptr);
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  void Post(Task task);
  // Whether the calling thread is this one (a callback that re-enters the engine).
  bool OnThisThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  // Whether tasks are posted and not yet started.
  bool HasQueued();

 private:
  void Loop();

  std::function<Clock::time_point()> next_wake_;
  Task on_wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_TASK_THREAD_H_
