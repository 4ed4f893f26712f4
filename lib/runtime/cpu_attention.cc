#include "lib/runtime/cpu_attention.h"

#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

// Scales the row, subtracts its largest score, exponentiates in place; returns the sum.
CACE_CPU_CLONES float SoftmaxWeights(float* row, std::int64_t n, float scale) {
  float max = -INFINITY;
  CACE_PRAGMA(omp simd reduction(max : max))
  for (std::int64_t p = 0; p < n; ++p) {
    row[p] *= scale;
    max = row[p] > max ? row[p] : max;
  }
  CACE_PRAGMA(omp simd)
  for (std::int64_t p = 0; p < n; ++p) row[p] = kmath::ExpPoly(row[p] - max);
  float sum = 0.0f;
  CACE_SIMD_REDUCE(sum)
  for (std::int64_t p = 0; p < n; ++p) sum += row[p];
  return sum;
}

// out = sum_p weights[p] * values[p] / sum.
CACE_CPU_CLONES void WeightedValues(const float* weights, std::int64_t n, float sum, const float* values,
                                    std::int64_t stride, int hd, float* out) {
  for (int i = 0; i < hd; ++i) out[i] = 0.0f;
  for (std::int64_t p = 0; p < n; ++p) {
    const float w = weights[p];
    const float* v = values + p * stride;
#pragma GCC ivdep
    for (int i = 0; i < hd; ++i) out[i] += w * v[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < hd; ++i) out[i] *= inv;
}

}  // namespace

std::size_t AttentionScratchFloats(std::int64_t n_positions) {
  return static_cast<std::size_t>(kAttentionQueryBlock * n_positions);
}

void AttendRun(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores) {
  const std::int64_t n_keys = run.first_pos + run.n_tokens;  // what the last token sees
  DotProducts(isa, run.q, run.q_stride, run.n_tokens, run.keys, run.kv_stride, n_keys, head_dim, scores, n_keys);
  for (std::int64_t i = 0; i < run.n_tokens; ++i) {
    float* row = scores + i * n_keys;
    const std::int64_t seen = run.first_pos + i + 1;
    const float sum = SoftmaxWeights(row, seen, scale);
    WeightedValues(row, seen, sum, run.values, run.kv_stride, head_dim, run.out + i * run.out_stride);
  }
}

}  // namespace cace
