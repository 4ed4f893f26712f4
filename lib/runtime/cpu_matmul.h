// Matrix products of the CPU backend: y[t][r] = dot(W row r, x[t]) for every token t, over a
// weight matrix of any type the kernels read directly, multi-threaded over groups of rows (the
// kernel is lib/runtime/cpu_gemm.h).
#ifndef CACE_LIB_RUNTIME_CPU_MATMUL_H_
#define CACE_LIB_RUNTIME_CPU_MATMUL_H_

#include <cstdint>
#include <span>
#include <vector>

#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/cpu_gemm_q4_k_int8.h"
#include "lib/runtime/cpu_gemm_q6_k_int8.h"
#include "lib/runtime/model_weights.h"
#include "lib/runtime/thread_pool.h"

namespace cace {

// Dot product of row r of w with x (w.cols values), widening w inside the loop: the plain
// reference (kernels_math.h) the vector kernels are tested against.
float DotRow(const WeightMatrix& w, std::int64_t r, const float* x);

// Row r of w as F32 (w.cols values): embedding look-ups and the batched product.
void DequantizeRow(const WeightMatrix& w, std::int64_t r, float* out);

// One matrix of a product over a shared input, and where its result goes ([n_tokens][w->rows]).
struct MatmulOutput {
  const WeightMatrix* w;
  float* y;
};

class CpuMatmul {
 public:
  // use_blas: products over more than kBlasMinTokens tokens (prefill) go to OpenBLAS's sgemm, when
  // cace was built with it (off by default: benchmarks/decode_bench.cc BM_Prefill measures both).
  // Sets OpenBLAS to one thread of its own (process-wide): the slices run on `pool`. Q8_0 products
  // on GemmPanelsInt8 (int8 activations) stay there, faster than widening rows for sgemm.
  // int8_activations: Q8_0, Q4_K and Q6_K matrices multiply activations quantized to int8
  // (cpu_gemm_int8.h, cpu_gemm_q4_k_int8.h, cpu_gemm_q6_k_int8.h).
  CpuMatmul(ThreadPool* pool, bool use_blas, bool int8_activations);

  static bool HaveBlas();

  static constexpr std::int64_t kBlasMinTokens = 8;

  // x: [n_tokens][w.cols], y: [n_tokens][w.rows]. Each weight row is read once per block of
  // tokens (once per step in decode, for one sequence or a batch) by GemmRows, or, for Q8_0 with
  // int8 activations, by GemmRowsInt8 (few tokens) or GemmPanelsInt8 (more, AVX-512 VNNI), or
  // GemmRows on RoundToQ8_0's activations (more, other vector sets): kInt8PanelMinTokens says
  // where each runs; for Q4_K (Q6_K) with int8 activations by GemmRowsQ4_KInt8 (GemmRowsQ6_KInt8,
  // where Q6_KInt8Runs) up to kQ4_KInt8MaxTokens (kQ6_KInt8MaxTokens) tokens, otherwise by
  // GemmRows on RoundToQ8_0's activations.
  void Multiply(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);

  // The products of several matrices with the same x (q, k and v; gate and up: equal w->cols). Where
  // every one reads its rows as stored (decode), their rows go to the pool as one range and x is
  // quantized once: a decode step of a small model is a few hundred such products, and each fork
  // and join of the pool, with the thread that finishes first waiting on the other, costs as much
  // as reading a small matrix. Otherwise (prefill) one Multiply each.
  void MultiplyShared(std::span<const MatmulOutput> outputs, const float* x, std::int64_t n_tokens);

  // Bytes of the scratch the products have sized so far (widened rows or a repacked int8 panel
  // per thread, sgemm's matrix, quantized activations).
  std::uint64_t ScratchBytes() const;

 private:
  // Which kernel multiplies a product, as Multiply's comment says.
  enum class Route {
    kRows,        // GemmRows, on x or, with round_to_q8_0, on RoundToQ8_0's activations
    kInt8Rows,    // GemmRowsInt8, GemmRowsQ4_KInt8 or GemmRowsQ6_KInt8 on quantized_
    kInt8Panels,  // GemmPanelsInt8 on tiles_
    kBlas,        // OpenBLAS sgemm, on x or on RoundToQ8_0's activations
  };
  struct Plan {
    Route route;
    bool round_to_q8_0;  // int8 activations where no int8 kernel serves: F32 kernels on x rounded
    bool operator==(const Plan&) const = default;
  };
  Plan PlanOf(const WeightMatrix& w, std::int64_t n_tokens) const;

  // The products of outputs (all with plan `plan`, route kRows or kInt8Rows): the activations
  // prepared once, then one pass of the pool over the row groups of every matrix in turn.
  void MultiplyRows(std::span<const MatmulOutput> outputs, Plan plan, const float* x, std::int64_t n_tokens);
  // Q8_0 with int8 activations and many tokens: the activations quantized into token tiles, then
  // the rows repacked into panels.
  void MultiplyInt8Panels(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);
  void MultiplyBlas(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);
  // x rounded to Q8_0 as the int8 kernels round it, in rounded_.
  const float* RoundedToQ8_0(const float* x, std::int64_t n_tokens, std::int64_t cols);

  ThreadPool* pool_;
  bool use_blas_;
  bool int8_activations_;
  CpuIsa isa_;
  Int8Activations quantized_;  // the activations of the current Q8_0, Q4_K or Q6_K product, few tokens
  Int8TokenTiles tiles_;       // the same, more tokens, where Int8PanelsRun (Q8_0)
  AlignedVector<float> rounded_;  // the same rounded to Q8_0 as F32, where no int8 kernel runs
  std::vector<AlignedVector<float>> scratch_;  // a widened row group or an int8 panel per thread
  std::vector<float> widened_;               // the whole matrix as F32, for sgemm
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_MATMUL_H_
