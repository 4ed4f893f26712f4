// The CPU backend's product of Q8_0 weight rows with activations quantized to int8, as llama.cpp
// multiplies Q8_0: each token's activations are quantized once per product into blocks of 32
// (kmath::QuantizeQ8_0Block), and a weight block times an activation block is an exact integer
// sum of 32 int8 products times the two scales (kmath::DotQ8_0Int8Block). The integer sums are
// what makes it fast: AVX-512 VNNI sums 64 products per instruction (vpdpbusd, unsigned times
// signed: the activations are offset by 128 and 128 x the weights' sum taken off again), AVX2 32
// (vpmaddubsw on |w| and x with w's sign, then vpmaddwd), the baseline kmath's loop.
//
// Rows are read as GemmRows reads them for decode: four rows a quarter of the range apart side by
// side (four memory streams, prefetched a few rows ahead), each row once per block of tokens whose
// activations stay in L2, meeting a register tile of tokens there (4 with VNNI, 2 with AVX2).
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_

#include <cstdint>

#include "lib/loader/quant_blocks.h"
#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// The activations of n_tokens tokens of cols values (a multiple of 32) as Q8_0 blocks.
class Int8Activations {
 public:
  // Sizes the buffers for n_tokens x cols (cols a multiple of 32); keeps their capacity.
  void Resize(std::int64_t n_tokens, int cols);

  // Quantizes tokens [t0, t1) of x ([n_tokens][cols] floats); disjoint ranges may run concurrently.
  void Quantize(const float* x, std::int64_t t0, std::int64_t t1);

  std::int64_t n_tokens() const { return n_tokens_; }
  int cols() const { return cols_; }
  int blocks() const { return cols_ / quant::kQ8_0BlockValues; }
  const std::int8_t* values(std::int64_t t) const { return q_.data() + t * cols_; }  // cols values
  const float* scales(std::int64_t t) const { return d_.data() + t * blocks(); }    // blocks() scales

  std::uint64_t CapacityBytes() const { return q_.capacity() + d_.capacity() * sizeof(float); }

 private:
  std::int64_t n_tokens_ = 0;
  int cols_ = 0;
  AlignedVector<std::int8_t> q_;  // [n_tokens][cols]
  AlignedVector<float> d_;        // [n_tokens][cols / 32]
};

// Up to this many tokens Q8_0 products are integer dot products; beyond (prefill), the
// activations are rounded to Q8_0 (RoundToQ8_0) and multiplied in F32 by GemmRows, which is faster
// there (cpu_gemm_bench: 2.2x, 1.5x, 1.0x and 0.8x GemmRows's speed at 1, 8, 32 and 512 tokens):
// the same arithmetic either way, up to F32 rounding.
inline constexpr std::int64_t kInt8MaxTokens = 8;

// out = x with every block of 32 rounded as Int8Activations::Quantize rounds it (q * d), for
// tokens [t0, t1) of [n][cols] floats (cols a multiple of 32).
void RoundToQ8_0(const float* x, int cols, std::int64_t t0, std::int64_t t1, float* out);

// y[t * ldy + r] = the int8 product of Q8_0 row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x.cols() == w.cols).
void GemmRowsInt8(CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy,
                  std::int64_t row_begin, std::int64_t row_end);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_
