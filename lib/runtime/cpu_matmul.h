// Matrix products of the CPU backend: y[t][r] = dot(W row r, x[t]) for every token t, over a
// weight matrix of any type the kernels read directly, multi-threaded over rows.
#ifndef CACE_LIB_RUNTIME_CPU_MATMUL_H_
#define CACE_LIB_RUNTIME_CPU_MATMUL_H_

#include <cstdint>
#include <vector>

#include "lib/runtime/model_weights.h"
#include "lib/runtime/thread_pool.h"

namespace cace {

// Dot product of row r of w with x (w.cols values), widening w inside the loop.
float DotRow(const WeightMatrix& w, std::int64_t r, const float* x);

// Row r of w as F32 (w.cols values): embedding look-ups and the batched product.
void DequantizeRow(const WeightMatrix& w, std::int64_t r, float* out);

class CpuMatmul {
 public:
  // use_blas: products over more than 8 tokens (prefill) go to OpenBLAS's sgemm, when
  // cace was built with it. Sets OpenBLAS to one thread of its own (process-wide): the slices run
  // on `pool`.
  CpuMatmul(ThreadPool* pool, bool use_blas);

  static bool HaveBlas();

  // x: [n_tokens][w.cols], y: [n_tokens][w.rows]. With few tokens each weight row is dotted as it
  // is stored (decode reads the weights once, straight from memory); with more, the matrix is
  // widened to F32 (whole, for sgemm, or row by row into per-thread scratch) and reused for every
  // token.
  void Multiply(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);

 private:
  ThreadPool* pool_;
  bool use_blas_;
  std::vector<std::vector<float>> scratch_;  // one row per thread
  std::vector<float> widened_;               // the whole matrix as F32, for sgemm
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_MATMUL_H_
