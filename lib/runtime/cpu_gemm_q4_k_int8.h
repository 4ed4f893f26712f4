// The CPU backend's product of Q4_K weight rows with activations quantized to int8, as Q8_0 rows
// meet them (cpu_gemm_int8.h): each token's activations are quantized once per product into
// Q8_0 blocks of 32 (kmath::QuantizeQ8_0Block, the same rounding), one per Q4_K sub-block, with
// each block's sum of values. A sub-block's product is then the exact integer sum of its 32
// nibbles times the int8 values, times the sub-block's scale, less its minimum times the sum of
// values, all times the activations' step (kmath::DotQ4_KInt8Block). Nibbles are unsigned and the
// activations signed, which is what AVX-512 VNNI's vpdpbusd (64 products an instruction) and
// AVX2's vpmaddubsw multiply; the baseline set runs kmath's loop.
//
// Rows are read as the other decode kernels read them: four rows a quarter of the range apart
// side by side (four memory streams, prefetched a few rows ahead), each row once per block of
// tokens whose activations stay in L2, meeting a register tile of tokens there (4 with VNNI,
// 2 with AVX2).
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_

#include <cstdint>

#include "lib/loader/quant_blocks.h"
#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// The activations of n_tokens tokens of cols values (a multiple of 256) as Q8_0 blocks of 32, with
// each block's sum of values.
class Q4_KActivations {
 public:
  // Sizes the buffers for n_tokens x cols (cols a multiple of 256); keeps their capacity.
  void Resize(std::int64_t n_tokens, int cols);

  // Quantizes tokens [t0, t1) of x ([n_tokens][cols] floats); disjoint ranges may run concurrently.
  void Quantize(const float* x, std::int64_t t0, std::int64_t t1);

  std::int64_t n_tokens() const { return n_tokens_; }
  int cols() const { return cols_; }
  int blocks() const { return cols_ / quant::kQ8_0BlockValues; }
  const std::int8_t* values(std::int64_t t) const { return q_.data() + t * cols_; }  // cols values
  const float* scales(std::int64_t t) const { return d_.data() + t * blocks(); }    // blocks() steps
  const std::int32_t* sums(std::int64_t t) const { return sums_.data() + t * blocks(); }  // blocks() sums

  std::uint64_t CapacityBytes() const {
    return q_.capacity() + d_.capacity() * sizeof(float) + sums_.capacity() * sizeof(std::int32_t);
  }

 private:
  std::int64_t n_tokens_ = 0;
  int cols_ = 0;
  AlignedVector<std::int8_t> q_;      // [n_tokens][cols]
  AlignedVector<float> d_;            // [n_tokens][cols / 32]
  AlignedVector<std::int32_t> sums_;  // [n_tokens][cols / 32]
};

// Up to this many tokens Q4_K products are integer dot products; beyond (prefill), the
// activations are rounded as Q8_0 (RoundToQ8_0, cpu_gemm_int8.h) and multiplied in F32 by
// GemmRows, which is faster there (cpu_gemm_bench on AVX-512 VNNI: 2.0x, 0.9x and 0.55x GemmRows's
// speed at 1, 8 and 32 tokens): the same arithmetic either way, up to F32 rounding.
inline constexpr std::int64_t kQ4_KInt8MaxTokens = 8;

// y[t * ldy + r] = the int8 product of Q4_K row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x.cols() == w.cols).
void GemmRowsQ4_KInt8(CpuIsa isa, const WeightMatrix& w, const Q4_KActivations& x, float* y, std::int64_t ldy,
                      std::int64_t row_begin, std::int64_t row_end);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_Q4_K_INT8_H_
