// The CPU matrix kernel (lib/runtime/cpu_gemm.h) alone, on one thread: an MLP-shaped matrix
// (1536 x 576, SmolLM2-135M's gate projection; for Q4_K and Q6_K, whose rows are whole blocks of
// 256, its down projection, 576 x 1536: the same work) times 1 to 512 tokens, for every stored
// type and every vector set this processor runs, Q8_0, Q4_K and Q6_K also by int8 products, beside the
// plain reference (DotRow per row and token).
// Counters: GFLOP_s (2 x rows x cols x tokens per second), weight_GB_s (stored weight bytes read
// per second, the figure that bounds decode).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/loader/quantize.h"
#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/cpu_gemm_q4_k_int8.h"
#include "lib/runtime/cpu_gemm_q6_k_int8.h"
#include "lib/runtime/cpu_matmul.h"
#include "tests/runtime/random_model.h"

namespace cace {
namespace {

constexpr std::int64_t kRows = 1536;
constexpr std::int64_t kCols = 576;

// Weights of a K-quant type (blocks of 256) in the down projection's shape, quantized by the
// loader's quantizer; kept for the whole run.
WeightMatrix KQuantMatrix(DType type) {
  static std::vector<std::vector<std::byte>> keep;
  std::vector<float> values(static_cast<std::size_t>(kRows * kCols));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7919) % 2001) / 1000.0f - 1.0f;
  keep.push_back(*QuantizeFromF32(type, values));
  return {type, keep.back().data(), kCols, kRows};
}

const WeightMatrix& Matrix(DType type) {
  static std::vector<std::shared_ptr<ModelWeights>> keep;
  static std::vector<std::pair<DType, WeightMatrix>> made;
  for (const auto& [t, m] : made) {
    if (t == type) return m;
  }
  if (type == DType::kQ4_K || type == DType::kQ6_K) {
    made.emplace_back(type, KQuantMatrix(type));
    return made.back().second;
  }
  testing::RandomModelOptions o;
  o.vocab = 32;
  o.dim = kCols;
  o.ffn = kRows;
  o.layers = 1;
  o.heads = 9;
  o.kv_heads = 3;
  o.matrix_type = type;
  keep.push_back(testing::MakeRandomModel(o));
  made.emplace_back(type, keep.back()->layers[0].w_gate);
  return made.back().second;
}

void Report(benchmark::State& state, const WeightMatrix& w, std::int64_t tokens, const std::string& label) {
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP_s"] = benchmark::Counter(iters * 2.0 * kRows * kCols * static_cast<double>(tokens) / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.counters["weight_GB_s"] =
      benchmark::Counter(iters * static_cast<double>(w.RowBytes()) * static_cast<double>(w.rows) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(label);
}

// Whether this processor lacks isa (the benchmark is then skipped, with the reason).
bool SkippedHere(benchmark::State& state, CpuIsa isa) {
  if (static_cast<int>(isa) <= static_cast<int>(DetectedCpuIsa())) return false;
  state.SkipWithError("this processor lacks the vector set");
  return true;
}

// Activations of tokens tokens of cols values spread over [-0.5, 0.5): blocks of unequal scales for
// the int8 products.
AlignedVector<float> Int8BenchActivations(std::int64_t tokens, std::int64_t cols) {
  AlignedVector<float> x(static_cast<std::size_t>(tokens * cols));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.001f * static_cast<float>(i % 997) - 0.5f;
  return x;
}

// state.range: 0 type, 1 tokens, 2 vector set (CpuIsa).
void BM_Gemm(benchmark::State& state) {
  const DType type = static_cast<DType>(state.range(0));
  const std::int64_t tokens = state.range(1);
  const CpuIsa isa = static_cast<CpuIsa>(state.range(2));
  if (SkippedHere(state, isa)) return;
  const WeightMatrix& w = Matrix(type);
  AlignedVector<float> x(static_cast<std::size_t>(tokens * w.cols), 0.5f);
  AlignedVector<float> y(static_cast<std::size_t>(tokens * w.rows));
  AlignedVector<float> scratch(GemmScratchFloats(w));
  for (auto _ : state) {
    GemmRows(isa, w, x.data(), tokens, y.data(), w.rows, 0, w.rows, scratch.data());
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, w, tokens, std::string(DTypeName(type)) + " " + std::string(CpuIsaName(isa)));
}

// The activations quantized into q and multiplied with w by product(q, y) in every iteration, as
// CpuMatmul does per product.
template <typename Activations, typename Product>
void TimeInt8(benchmark::State& state, const WeightMatrix& w, std::int64_t tokens, Activations& q, const Product& product) {
  const AlignedVector<float> x = Int8BenchActivations(tokens, w.cols);
  AlignedVector<float> y(static_cast<std::size_t>(tokens * w.rows));
  for (auto _ : state) {
    q.Resize(tokens, static_cast<int>(w.cols));
    q.Quantize(x.data(), 0, tokens);
    product(q, y.data());
    benchmark::DoNotOptimize(y.data());
  }
}

// Q8_0 rows times int8 activations (cpu_gemm_int8.h): rows as stored (GemmRowsInt8, decode) or
// 16-row panels repacked per product (GemmPanelsInt8, prefill and big batches).
// state.range: 0 tokens, 1 vector set (CpuIsa), 2 kernel (0 rows, 1 panels).
void BM_GemmInt8(benchmark::State& state) {
  const std::int64_t tokens = state.range(0);
  const CpuIsa isa = static_cast<CpuIsa>(state.range(1));
  if (SkippedHere(state, isa)) return;
  const WeightMatrix& w = Matrix(DType::kQ8_0);
  if (state.range(2) == 0) {
    Int8Activations q;
    TimeInt8(state, w, tokens, q, [&](const Int8Activations& a, float* y) { GemmRowsInt8(isa, w, a, y, kRows, 0, kRows); });
    Report(state, w, tokens, std::string("Q8_0 int8 ") + std::string(CpuIsaName(isa)));
    return;
  }
  AlignedVector<float> scratch(Int8PanelScratchFloats(w));
  Int8TokenTiles q;
  TimeInt8(state, w, tokens, q,
           [&](const Int8TokenTiles& a, float* y) { GemmPanelsInt8(isa, w, a, y, kRows, 0, kRows, scratch.data()); });
  Report(state, w, tokens, std::string("Q8_0 int8 panels ") + std::string(CpuIsaName(isa)));
}

// K-quant rows times int8 activations (cpu_gemm_q4_k_int8.h, cpu_gemm_q6_k_int8.h).
// state.range: 0 type (Q4_K or Q6_K), 1 tokens, 2 vector set (CpuIsa).
void BM_GemmKQuantInt8(benchmark::State& state) {
  const DType type = static_cast<DType>(state.range(0));
  const std::int64_t tokens = state.range(1);
  const CpuIsa isa = static_cast<CpuIsa>(state.range(2));
  if (SkippedHere(state, isa)) return;
  const WeightMatrix& w = Matrix(type);
  Int8Activations q;
  TimeInt8(state, w, tokens, q, [&](const Int8Activations& a, float* y) {
    if (type == DType::kQ4_K) {
      GemmRowsQ4_KInt8(isa, w, a, y, w.rows, 0, w.rows);
    } else {
      GemmRowsQ6_KInt8(isa, w, a, y, w.rows, 0, w.rows);
    }
  });
  Report(state, w, tokens, std::string(DTypeName(type)) + " int8 " + std::string(CpuIsaName(isa)));
}

void BM_DotRowReference(benchmark::State& state) {
  const DType type = static_cast<DType>(state.range(0));
  const std::int64_t tokens = state.range(1);
  const WeightMatrix& w = Matrix(type);
  std::vector<float> x(static_cast<std::size_t>(tokens * w.cols), 0.5f);
  std::vector<float> y(static_cast<std::size_t>(tokens * w.rows));
  for (auto _ : state) {
    for (std::int64_t r = 0; r < w.rows; ++r) {
      for (std::int64_t t = 0; t < tokens; ++t) y[static_cast<std::size_t>(t * w.rows + r)] = DotRow(w, r, x.data() + t * w.cols);
    }
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, w, tokens, std::string(DTypeName(type)) + " DotRow");
}

void GemmArgs(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    for (std::int64_t tokens : {1, 8, 16, 32, 128, 512}) {
      for (CpuIsa isa : {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
        b->Args({static_cast<std::int64_t>(t), tokens, static_cast<std::int64_t>(isa)});
      }
    }
  }
}

void Int8Args(benchmark::internal::Benchmark* b) {
  for (std::int64_t tokens : {1, 8, 32, 128, 512}) {
    for (CpuIsa isa : {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512Vnni}) b->Args({tokens, static_cast<std::int64_t>(isa), 0});
  }
  // The panels' vector kernel is AVX-512 VNNI's alone (elsewhere kmath's loop, not worth timing).
  for (std::int64_t tokens : {1, 4, 8, 9, 16, 32, 128, 512}) b->Args({tokens, static_cast<std::int64_t>(CpuIsa::kAvx512Vnni), 1});
}

void KQuantInt8Args(benchmark::internal::Benchmark* b) {
  for (std::int64_t tokens : {1, 4, 8, 32}) {
    for (CpuIsa isa : {CpuIsa::kBaseline, CpuIsa::kAvx2, CpuIsa::kAvx512Vnni}) {
      b->Args({static_cast<std::int64_t>(DType::kQ4_K), tokens, static_cast<std::int64_t>(isa)});
    }
    // Q6_K's vector kernel is AVX-512 VNNI's alone (elsewhere kmath's loop, not worth timing).
    b->Args({static_cast<std::int64_t>(DType::kQ6_K), tokens, static_cast<std::int64_t>(CpuIsa::kAvx512Vnni)});
  }
}

void ReferenceArgs(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    for (std::int64_t tokens : {1, 32}) b->Args({static_cast<std::int64_t>(t), tokens});
  }
}

BENCHMARK(BM_Gemm)->Apply(GemmArgs)->Unit(benchmark::kMicrosecond)->MinTime(0.3);
BENCHMARK(BM_GemmInt8)->Apply(Int8Args)->Unit(benchmark::kMicrosecond)->MinTime(0.3);
BENCHMARK(BM_GemmKQuantInt8)->Apply(KQuantInt8Args)->Unit(benchmark::kMicrosecond)->MinTime(0.3);
BENCHMARK(BM_DotRowReference)->Apply(ReferenceArgs)->Unit(benchmark::kMicrosecond)->MinTime(0.3);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
