// A fixed set of worker threads that split a range of indices with the calling thread. Each
// thread takes, until none is left, the next chunk of 1/threads of what remains (guided
// scheduling): a few large chunks first, then smaller ones that even out the finish. So a worker
// the OS has descheduled (the machine may be shared) delays nobody but by the chunk it holds: the
// others take what remains, and a worker that wakes after the work is done does not join it. Few
// chunks matter in decode, where a product over a small matrix takes microseconds and every chunk
// restarts the kernel's memory streams (cut into 8 equal chunks, SmolLM2's products read about 10 %
// slower from L3 at two threads). Workers spin briefly before sleeping, as the forward pass calls
// ParallelFor a hundred times or more per token.
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
  using RangeFn = std::function<void(std::int64_t begin, std::int64_t end, int thread)>;

  // threads <= 0: one per hardware thread. The calling thread is one of them.
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, thread) on disjoint chunks covering [0, n) and returns when all are done.
  // `thread` (0..size()-1) identifies the calling thread, for per-thread scratch. Not reentrant.
  void ParallelFor(std::int64_t n, const RangeFn& fn);

 private:
  struct Job {
    const RangeFn* fn;
    std::int64_t n;
    std::int64_t threads;                 // the pool's size: a chunk is 1/threads of what remains
    std::atomic<std::int64_t> next{0};  // the first index no thread has taken
    std::atomic<std::int64_t> done{0};  // indices whose chunks have returned
    std::atomic<int> active{0};  // workers that joined this job and have not left it
  };

  void WorkerLoop(int index);
  static void RunChunks(Job* job, int thread);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  bool stop_ = false;
  Job* job_ = nullptr;  // the job workers may join, guarded by mu_
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_THREAD_POOL_H_
