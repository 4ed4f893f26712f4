// Causal attention of the CPU backend, two ways:
//  - prefill, a run of new tokens at a time (AttendRun): for one query head and a block of
//    consecutive new tokens of one sequence, the scores against every key they may see are one
//    product (DotProducts: each key row is loaded once for a tile of queries), each row's softmax
//    runs as vector code (kmath::ExpPoly), and the value rows are summed with those weights;
//  - decode, a step's one new token (AttendDecodeChunk): the query heads of a range of key/value
//    heads at once, over a chunk of the cached positions, so that threads can share one sequence's
//    attention; each key/value head takes the query heads that share it as the rows of its
//    products, and the chunk is read in
//    blocks of positions, every key/value head of a block before the next block, so the cache is
//    read front to back (its rows interleave the heads: one head's keys alone lie kv_stride apart,
//    which memory served at about half the speed of the same bytes in a row, 8 against 15-17 GB/s
//    on a Zen 5 core). MergeDecodeChunks joins the chunks' partial softmaxes.
// The same arithmetic as the CUDA kernel's online softmax (kernels_math.h), in another order: the
// largest score of a run or chunk is known before any exponential is taken, so nothing is rescaled
// but the chunks' sums when they are merged.
#ifndef CACE_LIB_RUNTIME_CPU_ATTENTION_H_
#define CACE_LIB_RUNTIME_CPU_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/runtime/cpu_features.h"

namespace cace {

// Queries per block: the scores of one block ([block][keys] floats) stay in L2 up to a few
// thousand keys.
inline constexpr std::int64_t kAttentionQueryBlock = 32;

// Consecutive new tokens of one sequence and one query head.
struct AttentionRun {
  const float* q = nullptr;  // query of the first token; rows q_stride apart
  std::int64_t q_stride = 0;
  const float* keys = nullptr;    // key of position 0 of this head's key/value head
  const float* values = nullptr;  // value of position 0
  std::int64_t kv_stride = 0;     // floats between the rows of consecutive positions
  std::int64_t first_pos = 0;     // position of the first token; token i sees positions 0..first_pos+i
  std::int64_t n_tokens = 0;      // at most kAttentionQueryBlock
  float* out = nullptr;           // output of the first token, head_dim floats; rows out_stride apart
  std::int64_t out_stride = 0;
};

// Floats of scratch AttendRun needs for runs whose last token is at position < n_positions.
std::size_t AttentionScratchFloats(std::int64_t n_positions);

// out_i = softmax_p(scale * q_i . k_p) weighted sum of v_p, p <= first_pos + i, for each token i of
// the run. scores: AttentionScratchFloats floats, not shared with a concurrent call.
void AttendRun(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores);

// The heads of a model's attention.
struct AttentionHeads {
  std::int64_t n_heads;     // query heads; query head h reads key/value head h / (n_heads / n_kv_heads)
  std::int64_t n_kv_heads;
  int head_dim;
  float scale;              // of the scores, 1 / sqrt(head_dim)
};

// One decode token against the cached positions [begin, end) of its sequence, for the query heads
// of key/value heads [kv_begin, kv_end).
struct DecodeChunk {
  const float* q = nullptr;       // the token's queries: n_heads rows of head_dim floats
  const float* keys = nullptr;    // key row of position 0, every key/value head (n_kv_heads x head_dim)
  const float* values = nullptr;  // value row of position 0
  std::int64_t kv_stride = 0;     // floats between the rows of consecutive positions
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t kv_begin = 0;
  std::int64_t kv_end = 0;
  // Of the chunk's query heads h (the rest untouched):
  float* out = nullptr;  // row h of head_dim: sum over the chunk of exp(s - max) v_p
  float* max = nullptr;  // [h]: the largest scaled score s in the chunk
  float* sum = nullptr;  // [h]: the sum of exp(s - max) over the chunk
};

// Floats of scratch AttendDecodeChunk needs for chunks of up to n_positions.
std::size_t DecodeChunkScratchFloats(std::int64_t n_positions, std::int64_t n_heads);

// The partial softmax of the chunk's query heads over its positions (out, max, sum). scores:
// DecodeChunkScratchFloats floats, not shared with a concurrent call.
void AttendDecodeChunk(CpuIsa isa, const DecodeChunk& chunk, const AttentionHeads& heads, float* scores);

// out (n_heads rows of head_dim) = every query head's softmax-weighted sum of the values over all
// its positions, from the partial softmaxes of the chunks that hold its key/value head (together
// they cover every position once).
void MergeDecodeChunks(std::span<const DecodeChunk> chunks, const AttentionHeads& heads, float* out);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_ATTENTION_H_
