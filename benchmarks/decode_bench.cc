// Decode and prefill throughput of the CPU backend on a Llama-shaped model of about 100 M
// parameters (random weights: speed does not depend on their values), beside the bound set by
// memory bandwidth: a decode step of one sequence reads every weight once, so it can run at most
// at (bandwidth / weight bytes per token) tokens/s. The bandwidth is measured here, in the same
// process, by reading a buffer far larger than the caches with the same threads, several streams
// per thread (benchmarks/read_bandwidth.h).
//
// Counters: tok_s (tokens per second), bound_tok_s (the bandwidth bound), of_bound (tok_s over
// bound_tok_s), GB_s (bandwidth benchmark).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <memory>
#include <vector>

#include "benchmarks/read_bandwidth.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/thread_pool.h"
#include "tests/runtime/random_model.h"

namespace cace {
namespace {

// 12 layers, dim 768, MLP 2048, 12 query / 4 KV heads, vocabulary 32000, tied embeddings:
// 75.5 M in the layers + 24.6 M embedding = 100.1 M parameters.
testing::RandomModelOptions HundredMillion(DType type) {
  testing::RandomModelOptions o;
  o.vocab = 32000;
  o.dim = 768;
  o.ffn = 2048;
  o.layers = 12;
  o.heads = 12;
  o.kv_heads = 4;
  o.max_positions = 4096;
  o.tied = true;
  o.matrix_type = type;
  return o;
}

const std::shared_ptr<ModelWeights>& Model(DType type) {
  static std::shared_ptr<ModelWeights> models[4];
  const int i = type == DType::kF32 ? 0 : type == DType::kBF16 ? 1 : type == DType::kF16 ? 2 : 3;
  if (!models[i]) models[i] = testing::MakeRandomModel(HundredMillion(type));
  return models[i];
}

constexpr int kThreads = 0;  // one per hardware thread
constexpr std::size_t kBandwidthBytes = std::size_t{1} << 30;

// Read bandwidth in bytes/s (read_bandwidth.h: several streams per thread).
double MeasureBandwidth(int repeats) {
  static ThreadPool pool(kThreads);
  return bench::MeasureReadBandwidth(&pool, kBandwidthBytes, repeats);
}

double Bandwidth() {
  static const double bandwidth = MeasureBandwidth(5);
  return bandwidth;
}

void BM_MemoryBandwidth(benchmark::State& state) {
  double bw = 0;
  for (auto _ : state) bw = MeasureBandwidth(1);
  state.counters["GB_s"] = Bandwidth() / 1e9;
  state.counters["last_GB_s"] = bw / 1e9;
}
BENCHMARK(BM_MemoryBandwidth)->Unit(benchmark::kMillisecond)->Iterations(5);

// One decode token per iteration for `batch` sequences (state.range(1)), after a 64-token prompt.
void BM_Decode(benchmark::State& state) {
  const DType type = static_cast<DType>(state.range(0));
  const std::int64_t batch = state.range(1);
  const auto& weights = Model(type);
  auto backend = *CpuBackend::Create(weights, {.threads = kThreads});
  std::vector<std::unique_ptr<KvCache>> caches;
  const std::vector<std::int32_t> prompt(64, 7);
  const std::int32_t token = 11;
  std::vector<float> logits;
  auto reset = [&] {
    caches.clear();
    std::vector<SequenceStep> steps;
    for (std::int64_t i = 0; i < batch; ++i) {
      caches.push_back(*backend->NewSequence(1024, nullptr));
      steps.push_back({caches.back().get(), prompt});
    }
    if (!backend->Forward(steps, LogitsMode::kLast, &logits).ok()) state.SkipWithError("prefill failed");
  };
  reset();
  std::vector<SequenceStep> steps;
  for (auto _ : state) {
    if (caches[0]->length() + 1 > caches[0]->capacity()) {
      state.PauseTiming();
      reset();
      state.ResumeTiming();
    }
    steps.clear();
    for (auto& c : caches) steps.push_back({c.get(), std::span<const std::int32_t>(&token, 1)});
    if (!backend->Forward(steps, LogitsMode::kLast, &logits).ok()) state.SkipWithError("decode failed");
  }
  const double bytes = static_cast<double>(weights->BytesReadPerToken());
  state.counters["tok_s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  state.counters["bound_tok_s"] = Bandwidth() / bytes * static_cast<double>(batch);
  state.counters["weight_MB"] = bytes / 1e6;
  state.SetLabel(std::string(DTypeName(type)) + (batch > 1 ? " batch" : ""));
}

// A 128-token prompt per iteration; state.range(1): 1 = products through OpenBLAS sgemm, 0 = own
// kernels (rows widened once, dotted with every token).
void BM_Prefill(benchmark::State& state) {
  const DType type = static_cast<DType>(state.range(0));
  const bool blas = state.range(1) != 0;
  if (blas && !CpuMatmul::HaveBlas()) {
    state.SkipWithError("built without OpenBLAS");
    return;
  }
  auto backend = *CpuBackend::Create(Model(type), {.threads = kThreads, .use_blas = blas});
  const std::vector<std::int32_t> prompt(128, 5);
  std::vector<float> logits;
  for (auto _ : state) {
    auto cache = *backend->NewSequence(128, nullptr);
    SequenceStep step{cache.get(), prompt};
    if (!backend->Forward({&step, 1}, LogitsMode::kLast, &logits).ok()) state.SkipWithError("prefill failed");
  }
  state.counters["tok_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 128.0, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(DTypeName(type)) + (blas ? " openblas" : " own kernels"));
}

constexpr std::int64_t kF32 = static_cast<std::int64_t>(DType::kF32);
constexpr std::int64_t kBf16 = static_cast<std::int64_t>(DType::kBF16);
constexpr std::int64_t kF16 = static_cast<std::int64_t>(DType::kF16);
constexpr std::int64_t kQ8 = static_cast<std::int64_t>(DType::kQ8_0);

BENCHMARK(BM_Decode)->Args({kF32, 1})->Args({kF16, 1})->Args({kBf16, 1})->Args({kQ8, 1})->Args({kQ8, 8})->Args({kQ8, 32})
    ->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Prefill)->Args({kF32, 1})->Args({kF32, 0})->Args({kF16, 1})->Args({kF16, 0})->Args({kBf16, 1})->Args({kBf16, 0})->Args({kQ8, 1})->Args({kQ8, 0})->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
