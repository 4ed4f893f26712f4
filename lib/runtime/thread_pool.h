// A fixed set of worker threads that split a range of indices with the calling thread. The forward
// pass calls ParallelFor a few hundred times per token, so workers spin briefly before sleeping to
// keep the hand-off in microseconds.
#ifndef CACE_LIB_RUNTIME_THREAD_POOL_H_
#define CACE_LIB_RUNTIME_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cace {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread. The calling thread is one of them.
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel; returns when all are done.
  // fn(…, …, thread) also receives the index of the thread (0..size()-1) for per-thread scratch.
  void ParallelFor(std::int64_t n, const std::function<void(std::int64_t, std::int64_t, int)>& fn);

 private:
  void WorkerLoop(int index);
  void RunChunk(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  const std::function<void(std::int64_t, std::int64_t, int)>* job_ = nullptr;
  std::int64_t job_n_ = 0;
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_THREAD_POOL_H_
