// The CPU backend's product of Q4_K weight rows with activations quantized to int8, as Q8_0 rows
// meet them (cpu_gemm_int8.h): each token's activations are quantized once per product into
// Q8_0 blocks of 32 (Int8Activations, the same rounding), one per Q4_K sub-block, with each
// block's sum of values. A sub-block's product is then the exact integer sum of its 32
// nibbles times the int8 values, times the sub-block's scale, less its minimum times the sum of
// values, all times the activations' step (kmath::DotQ4_KInt8Block). Nibbles are unsigned and the
// activations signed, which is what AVX-512 VNNI's vpdpbusd (64 products an instruction) and
// AVX2's vpmaddubsw multiply; the baseline set runs kmath's loop.
//
// Rows are read as GemmRowsInt8 reads them (cpu_int8_rows.h), meeting a register tile of 4 tokens
// with VNNI, 2 with AVX2.
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_

#include <cstdint>

#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// Up to this many tokens Q4_K products are integer dot products; beyond (prefill), the
// activations are rounded as Q8_0 (RoundToQ8_0, cpu_gemm_int8.h) and multiplied in F32 by
// GemmRows, which is faster there: the same arithmetic either way, up to F32 rounding.
// cpu_gemm_bench on AVX-512 VNNI, weights in cache: 2.0x, 0.9x and 0.55x GemmRows's speed at 1, 8
// and 32 tokens; but decode of 8 sequences, its weights read from memory, runs 1.25-1.5x faster
// with 8 here than with 4 (cace_gguf_speed --batch 8 on the 1024-wide 8-layer Q4_K model, one and
// two threads, three rounds: 357-372 against 275-299 and 589-652 against 388-489 tokens/s).
inline constexpr std::int64_t kQ4_KInt8MaxTokens = 8;

// y[t * ldy + r] = the int8 product of Q4_K row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x.cols() == w.cols, a multiple of 256).
void GemmRowsQ4_KInt8(CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy,
                      std::int64_t row_begin, std::int64_t row_end);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_
