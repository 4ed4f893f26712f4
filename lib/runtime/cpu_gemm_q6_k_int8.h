// The CPU backend's product of Q6_K weight rows (GGUF's output matrix, and some value and down
// projections, beside Q4_K) with activations quantized to int8 as Q8_0 blocks of 32
// (Int8Activations, cpu_gemm_int8.h): each sub-block of 16 is the exact integer sum of its 6-bit
// values less 32 times the int8 activations, times the block's scale, the sub-block's, and the
// activations' step (kmath::DotQ6_KInt8Block). On AVX-512 VNNI, vpdpbusd multiplies the unsigned
// 6-bit values with the signed activations, starting from -32 x the activations' sums, a tile of
// 4 tokens x 4 rows; on AVX2, vpmaddubsw and vpmaddwd sum them in fours, less 32 x the
// activations' sums in fours, a tile of 2 tokens x 4 rows. Rows are read as GemmRowsInt8 reads
// them (cpu_int8_rows.h). Elsewhere the products are kmath's loop, there for the tests: CpuMatmul
// multiplies Q6_K with int8 activations only where Q6_KInt8Runs, and otherwise with RoundToQ8_0's
// activations in F32 (the same rounding).
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_Q6_K_INT8_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_Q6_K_INT8_H_

#include <cstdint>

#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// Up to this many tokens Q6_K products with int8 activations are integer sums where Q6_KInt8Runs;
// beyond, RoundToQ8_0 and GemmRows (as for Q4_K: cpu_gemm_q4_k_int8.h).
inline constexpr std::int64_t kQ6_KInt8MaxTokens = 8;

// Whether GemmRowsQ6_KInt8 has a vector kernel on isa (AVX2 and above).
bool Q6_KInt8Runs(CpuIsa isa);

// y[t * ldy + r] = the int8 product of Q6_K row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x.cols() == w.cols, a multiple of 256).
void GemmRowsQ6_KInt8(CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy,
                      std::int64_t row_begin, std::int64_t row_end);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_Q6_K_INT8_H_
