// Causal attention of the CPU backend, a run of new tokens at a time: for one query head and a
// block of consecutive new tokens of one sequence, the scores against every key they may see are
// one product (DotProducts: each key row is loaded once for a tile of queries), each row's softmax
// runs as vector code (kmath::ExpPoly), and the value rows are summed with those weights. A run of
// one token (decode) takes every query head that shares its key/value head at once, as the rows of
// those products: each cached key and value row is then loaded once per step for all of them, not
// once per query head (SmolLM2-135M, 3 query heads a key/value head, at 4 to 404 positions: a
// decode step's attention in about 0.8 of the time). The same
// arithmetic as the CUDA kernel's online softmax (kernels_math.h), in another order: the largest
// score is known before any exponential is taken, so nothing is rescaled.
#ifndef CACE_LIB_RUNTIME_CPU_ATTENTION_H_
#define CACE_LIB_RUNTIME_CPU_ATTENTION_H_

#include <cstddef>
#include <cstdint>

#include "lib/runtime/cpu_features.h"

namespace cace {

// Queries per block: the scores of one block ([block][keys] floats) stay in L2 up to a few
// thousand keys.
inline constexpr std::int64_t kAttentionQueryBlock = 32;

// Consecutive new tokens of one sequence and one query head, or, for one token, n_heads query heads
// of one key/value head.
struct AttentionRun {
  const float* q = nullptr;  // query of the first token; rows q_stride apart
  std::int64_t q_stride = 0;
  std::int64_t n_heads = 1;  // query heads, head_dim apart in q and out; more than one only if n_tokens is 1
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
// the run (each query head of its one token). scores: AttentionScratchFloats floats, not shared
// with a concurrent call.
void AttendRun(CpuIsa isa, const AttentionRun& run, int head_dim, float scale, float* scores);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_ATTENTION_H_
