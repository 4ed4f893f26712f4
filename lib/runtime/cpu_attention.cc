#include "lib/runtime/cpu_attention.h"

#include <algorithm>

#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

// Queries whose weighted value sums are taken together (the value rows are loaded once for them).
constexpr std::int64_t kValueTile = 4;

// Positions of a decode chunk read at a time, every key/value head of them before the next: the
// rows of a block stay in L2 beside the scores (64 positions of 8 key/value heads of 128 are 256 KiB).
constexpr std::int64_t kDecodeBlock = 64;

// Scales the row, subtracts its largest score, exponentiates in place; returns the sum, and the
// largest score (scaled) in *max_out where given.
CACE_CPU_CLONES float SoftmaxWeights(float* row, std::int64_t n, float scale, float* max_out = nullptr) {
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
  if (max_out != nullptr) *max_out = max;
  return sum;
}

}  // namespace

std::size_t AttentionScratchFloats(std::int64_t n_positions) {
  return static_cast<std::size_t>(kAttentionQueryBlock * n_positions);
}

void AttendRun(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores) {
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
                    run.out_stride, /*accumulate=*/false);
    for (std::int64_t i = 0; i < rows; ++i) {
      for (int d = 0; d < head_dim; ++d) out[i * run.out_stride + d] *= inv_sums[i];
    }
  }
}

std::size_t DecodeChunkScratchFloats(std::int64_t n_positions, std::int64_t n_heads) {
  return static_cast<std::size_t>(n_heads * n_positions);
}

void AttendDecodeChunk(CpuIsa isa, const DecodeChunk& chunk, const AttentionHeads& heads, float* scores) {
  const std::int64_t len = chunk.end - chunk.begin;
  const std::int64_t group = heads.n_heads / heads.n_kv_heads;
  const int hd = heads.head_dim;
  // scores[(h - first head) * len + p - begin]: query head h against position p.
  const std::int64_t h0 = chunk.kv_begin * group;
  for (std::int64_t b = chunk.begin; b < chunk.end; b += kDecodeBlock) {
    const std::int64_t n = std::min(kDecodeBlock, chunk.end - b);
    for (std::int64_t g = chunk.kv_begin; g < chunk.kv_end; ++g) {
      DotProducts(isa, chunk.q + g * group * hd, hd, group, chunk.keys + b * chunk.kv_stride + g * hd, chunk.kv_stride,
                  n, hd, scores + (g * group - h0) * len + (b - chunk.begin), len);
    }
  }
  for (std::int64_t h = h0; h < chunk.kv_end * group; ++h) {
    chunk.sum[h] = SoftmaxWeights(scores + (h - h0) * len, len, heads.scale, &chunk.max[h]);
  }
  for (std::int64_t b = chunk.begin; b < chunk.end; b += kDecodeBlock) {
    const std::int64_t n = std::min(kDecodeBlock, chunk.end - b);
    for (std::int64_t g = chunk.kv_begin; g < chunk.kv_end; ++g) {
      WeightedRowSums(isa, scores + (g * group - h0) * len + (b - chunk.begin), len, group, n,
                      chunk.values + b * chunk.kv_stride + g * hd, chunk.kv_stride, hd, chunk.out + g * group * hd, hd,
                      /*accumulate=*/b > chunk.begin);
    }
  }
}

void MergeDecodeChunks(std::span<const DecodeChunk> chunks, const AttentionHeads& heads, float* out) {
  const int hd = heads.head_dim;
  const std::int64_t group = heads.n_heads / heads.n_kv_heads;
  for (std::int64_t h = 0; h < heads.n_heads; ++h) {
    const auto holds = [&](const DecodeChunk& c) { return c.kv_begin <= h / group && h / group < c.kv_end; };
    float max = -INFINITY;
    for (const DecodeChunk& c : chunks) max = holds(c) ? std::max(max, c.max[h]) : max;
    float* o = out + h * hd;
    float sum = 0.0f;
    for (int d = 0; d < hd; ++d) o[d] = 0.0f;
    for (const DecodeChunk& c : chunks) {
      if (!holds(c)) continue;
      const float rescale = kmath::ExpPoly(c.max[h] - max);
      sum += c.sum[h] * rescale;
      for (int d = 0; d < hd; ++d) o[d] += c.out[h * hd + d] * rescale;
    }
    const float inv = 1.0f / sum;
    for (int d = 0; d < hd; ++d) o[d] *= inv;
  }
}

}  // namespace cace
