// The memory read bandwidth decode runs against, measured in the calling process with the threads
// of a ThreadPool: each thread sums its own share of a buffer far larger than the caches, reading
// several places of its share at once. The bound is the machine's ceiling, so the figure is the
// best over several such patterns (kStreamCounts) and repeats: which pattern reads fastest depends
// on the processor (on the Xeon this was first tuned on, four streams per thread read about twice
// as fast as one; on one core of a Zen 5, two read about 15 % faster than four, and cace's decode
// read 10-16 % faster than four), and a decode that reads faster than the figure would mean the
// figure is not the ceiling.
#ifndef CACE_BENCHMARKS_READ_BANDWIDTH_H_
#define CACE_BENCHMARKS_READ_BANDWIDTH_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/runtime/thread_pool.h"

namespace cace::bench {

// Sums n floats at each of kStreams pointers, 8 lanes per stream, so the loop is bound by loads.
template <int kStreams>
float SumStreams(const float* base, std::int64_t per_stream) {
  float acc[kStreams][8] = {};
  for (std::int64_t i = 0; i + 8 <= per_stream; i += 8) {
    for (int s = 0; s < kStreams; ++s) {
      for (int j = 0; j < 8; ++j) acc[s][j] += base[s * per_stream + i + j];
    }
  }
  float total = 0;
  for (const auto& a : acc) {
    for (float v : a) total += v;
  }
  return total;
}

// Bytes per second of one pass over `buffer` by every thread of `pool`, kStreams streams each.
template <int kStreams>
double ReadPass(ThreadPool* pool, const std::vector<float>& buffer, std::vector<float>* sums) {
  const std::int64_t threads = pool->size();
  const std::int64_t share = static_cast<std::int64_t>(buffer.size()) / threads;
  const std::int64_t per_stream = share / kStreams;
  const auto start = std::chrono::steady_clock::now();
  pool->ParallelFor(threads, [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t t = b; t < e; ++t) {
      (*sums)[static_cast<std::size_t>(t)] += SumStreams<kStreams>(buffer.data() + t * share, per_stream);
    }
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(per_stream * kStreams * threads) * sizeof(float) / seconds;
}

// Best of `repeats` passes of each pattern over a buffer of `bytes`, in bytes per second.
inline double MeasureReadBandwidth(ThreadPool* pool, std::size_t bytes, int repeats) {
  std::vector<float> buffer(bytes / sizeof(float), 1.0f);
  std::vector<float> sums(static_cast<std::size_t>(pool->size()));
  double best = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    best = std::max({best, ReadPass<1>(pool, buffer, &sums), ReadPass<2>(pool, buffer, &sums),
                     ReadPass<4>(pool, buffer, &sums), ReadPass<8>(pool, buffer, &sums)});
  }
  volatile float sink = sums[0];
  (void)sink;
  return best;
}

}  // namespace cace::bench

#endif  // CACE_BENCHMARKS_READ_BANDWIDTH_H_
