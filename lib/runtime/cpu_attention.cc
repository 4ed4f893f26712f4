#include "lib/runtime/cpu_attention.h"

#include <algorithm>

#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

// Queries whose weighted value sums are taken together (the value rows are loaded once for them).
constexpr std::int64_t kValueTile = 4;

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

// One token's query heads (rows head_dim apart) against every position up to its own, up to
// kAttentionQueryBlock heads at a time (what scores holds).
void AttendHeads(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores) {
  const std::int64_t n_keys = run.first_pos + 1;
  float inv_sums[kAttentionQueryBlock];
  for (std::int64_t h0 = 0; h0 < run.n_heads; h0 += kAttentionQueryBlock) {
    const std::int64_t heads = std::min(kAttentionQueryBlock, run.n_heads - h0);
    const float* q = run.q + h0 * head_dim;
    float* out = run.out + h0 * head_dim;
    DotProducts(isa, q, head_dim, heads, run.keys, run.kv_stride, n_keys, head_dim, scores, n_keys);
    for (std::int64_t h = 0; h < heads; ++h) inv_sums[h] = 1.0f / SoftmaxWeights(scores + h * n_keys, n_keys, scale);
    WeightedRowSums(isa, scores, n_keys, heads, n_keys, run.values, run.kv_stride, head_dim, out, head_dim);
    for (std::int64_t h = 0; h < heads; ++h) {
      for (int d = 0; d < head_dim; ++d) out[h * head_dim + d] *= inv_sums[h];
    }
  }
}

}  // namespace

std::size_t AttentionScratchFloats(std::int64_t n_positions) {
  return static_cast<std::size_t>(kAttentionQueryBlock * n_positions);
}

void AttendRun(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores) {
  if (run.n_tokens == 1) return AttendHeads(isa, run, head_dim, scale, scores);
  const std::int64_t n_keys = run.first_pos + run.n_tokens;  // what the last token sees
  DotProducts(isa, run.q, run.q_stride, run.n_tokens, run.keys, run.kv_stride, n_keys, head_dim, scores, n_keys);
  float inv_sums[kValueTile];
  for (std::int64_t i0 = 0; i0 < run.n_tokens; i0 += kValueTile) {
    const std::int64_t rows = std::min(kValueTile, run.n_tokens - i0);
    const std::int64_t seen_by_last = run.first_pos + i0 + rows;
    for (std::int64_t i = i0; i < i0 + rows; ++i) {
      float* row = scores + i * n_keys;
      const std::int64_t seen = run.first_pos + i + 1;
      inv_sums[i - i0] = 1.0f / SoftmaxWeights(row, seen, scale);
      for (std::int64_t p = seen; p < seen_by_last; ++p) row[p] = 0.0f;  // future positions weigh nothing
    }
    float* out = run.out + i0 * run.out_stride;
    WeightedRowSums(isa, scores + i0 * n_keys, n_keys, rows, seen_by_last, run.values, run.kv_stride, head_dim, out,
                    run.out_stride);
    for (std::int64_t i = 0; i < rows; ++i) {
      for (int d = 0; d < head_dim; ++d) out[i * run.out_stride + d] *= inv_sums[i];
    }
  }
}

}  // namespace cace
