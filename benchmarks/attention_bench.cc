// The CPU backend's decode attention (lib/runtime/cpu_attention.h) alone, on one thread: one
// token's every query head (SmolLM2-135M's: 9 of 64 values, 3 key/value heads, so cached rows of
// 192 floats) over 128 to 4096 cached positions, as one chunk. warm: the same layer's keys and values
// every iteration (in L2 or L3); cold: the next of enough layers that together are far larger than
// the last-level cache, as in a decode step, where every layer's weights pass through the caches
// between two reads of its cache.
// Counters: head_positions_s (query heads x positions per second), kv_GB_s (cached key and value
// bytes read per second, in GB).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_attention.h"
#include "lib/runtime/cpu_features.h"

namespace cace {
namespace {

constexpr AttentionHeads kHeads{9, 3, 64, 0.125f};
constexpr std::int64_t kKvStride = kHeads.n_kv_heads * kHeads.head_dim;
constexpr std::size_t kColdBytes = std::size_t{256} << 20;

// state.range(0): positions; state.range(1): 1 = cold.
void BM_AttendDecode(benchmark::State& state) {
  const std::int64_t positions = state.range(0);
  const bool cold = state.range(1) == 1;
  const std::size_t layer_floats = static_cast<std::size_t>(positions * kKvStride);
  const std::size_t layers = cold ? std::max<std::size_t>(2, kColdBytes / (2 * layer_floats * sizeof(float))) : 1;
  std::vector<float> keys(layers * layer_floats), values(layers * layer_floats);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    keys[i] = static_cast<float>(i % 17) / 17.0f - 0.5f;
    values[i] = static_cast<float>(i % 13) / 13.0f - 0.5f;
  }
  const std::size_t head_floats = static_cast<std::size_t>(kHeads.n_heads * kHeads.head_dim);
  std::vector<float> q(head_floats, 0.1f), out(head_floats), max(kHeads.n_heads), sum(kHeads.n_heads);
  AlignedVector<float> scratch(DecodeChunkScratchFloats(positions, kHeads.n_heads));
  std::size_t layer = 0;
  for (auto _ : state) {
    const DecodeChunk chunk{q.data(), keys.data() + layer * layer_floats, values.data() + layer * layer_floats,
                            kKvStride, 0, positions, 0, kHeads.n_kv_heads, out.data(), max.data(), sum.data()};
    AttendDecodeChunk(DetectedCpuIsa(), chunk, kHeads, scratch.data());
    benchmark::DoNotOptimize(out.data());
    layer = (layer + 1) % layers;
  }
  state.counters["head_positions_s"] =
      benchmark::Counter(static_cast<double>(kHeads.n_heads * positions), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["kv_GB_s"] = benchmark::Counter(2.0 * static_cast<double>(layer_floats) * sizeof(float) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttendDecode)->ArgsProduct({{128, 512, 4096}, {0, 1}})->Unit(benchmark::kMicrosecond)->MinTime(0.3);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
