#include "lib/runtime/thread_pool.h"

#include <algorithm>

namespace cace {
namespace {
constexpr int kSpinIterations = 20000;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunks(Job* job, int thread) {
  std::int64_t begin = job->next.load(std::memory_order_relaxed);
  while (begin < job->n) {
    const std::int64_t size = std::max<std::int64_t>(1, (job->n - begin) / job->threads);
    // On failure `begin` is reloaded with the index another thread left.
    if (!job->next.compare_exchange_weak(begin, begin + size, std::memory_order_relaxed)) continue;
    (*job->fn)(begin, begin + size, thread);
    job->done.fetch_add(size, std::memory_order_release);
    begin = job->next.load(std::memory_order_relaxed);
  }
}

void ThreadPool::ParallelFor(std::int64_t n, const RangeFn& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    fn(0, n, 0);
    return;
  }
  Job job;
  job.fn = &fn;
  job.n = n;
  job.threads = size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  RunChunks(&job, 0);
  while (job.done.load(std::memory_order_acquire) != n) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;  // from here no worker joins; wait for those that did to leave `job`
  }
  while (job.active.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void ThreadPool::WorkerLoop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    // Spin a little: the next job usually follows within microseconds.
    for (int i = 0; i < kSpinIterations && generation_.load(std::memory_order_acquire) == seen; ++i) {
    }
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      seen = generation_.load();
      if (stop_) return;
      job = job_;
      if (job != nullptr) job->active.fetch_add(1);
    }
    if (job == nullptr) continue;  // woke after that job was done
    RunChunks(job, index);
    job->active.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace cace
