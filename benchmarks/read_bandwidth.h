// The memory read bandwidth decode runs against, measured in the calling process with the threads
// of a ThreadPool: each thread sums its share of a buffer far larger than the caches, reading
// kStreams places of its share at once. One sequential stream per thread understates what memory
// delivers (the hardware prefetchers keep more lines in flight for several streams; on the Xeon
// this was tuned on, four streams read about twice as fast as one), and a decode step reads four
// weight rows at a time per thread (cpu_gemm.h), so the bound is set with as many streams.
#ifndef CACE_BENCHMARKS_READ_BANDWIDTH_H_
#define CACE_BENCHMARKS_READ_BANDWIDTH_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/runtime/thread_pool.h"

namespace cace::bench {

inline constexpr int kStreams = 4;

// Sums n floats at each of kStreams pointers, 8 lanes per stream, so the loop is bound by loads.
inline float SumStreams(const float* const* streams, std::int64_t n) {
  float acc[kStreams][8] = {};
  for (std::int64_t i = 0; i + 8 <= n; i += 8) {
    for (int s = 0; s < kStreams; ++s) {
      for (int j = 0; j < 8; ++j) acc[s][j] += streams[s][i + j];
    }
  }
  float total = 0;
  for (const auto& a : acc) {
    for (float v : a) total += v;
  }
  return total;
}

// Best of `repeats` passes over a buffer of `bytes`, in bytes per second.
inline double MeasureReadBandwidth(ThreadPool* pool, std::size_t bytes, int repeats) {
  std::vector<float> buffer(bytes / sizeof(float), 1.0f);
  const std::int64_t threads = pool->size();
  const std::int64_t share = static_cast<std::int64_t>(buffer.size()) / threads;
  std::vector<float> sums(static_cast<std::size_t>(threads));
  double best = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    pool->ParallelFor(threads, [&](std::int64_t b, std::int64_t e, int) {
      for (std::int64_t t = b; t < e; ++t) {
        const float* base = buffer.data() + t * share;
        const std::int64_t per_stream = share / kStreams;
        const float* streams[kStreams];
        for (int s = 0; s < kStreams; ++s) streams[s] = base + s * per_stream;
        sums[static_cast<std::size_t>(t)] += SumStreams(streams, per_stream);
      }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(share * threads) * sizeof(float) / seconds);
  }
  volatile float sink = sums[0];
  (void)sink;
  return best;
}

}  // namespace cace::bench

#endif  // CACE_BENCHMARKS_READ_BANDWIDTH_H_
