// The CPU backend's product of Q8_0 weight rows with activations quantized to int8, as llama.cpp
// multiplies Q8_0: each token's activations are quantized once per product into blocks of 32
// (kmath::QuantizeQ8_0Block), and a weight block times an activation block is an exact integer
// sum of 32 int8 products times the two scales (kmath::DotQ8_0Int8Block). The integer sums are
// what makes it fast: AVX-512 VNNI sums 64 products per instruction (vpdpbusd, unsigned times
// signed: one side offset by 128 and 128 x that side's partner's sum taken off again), AVX2 32
// (vpmaddubsw on |w| and x with w's sign, then vpmaddwd), the baseline kmath's loop.
//
// Two kernels, by the number of tokens:
// - GemmRowsInt8 (decode of few sequences, every vector set; see kInt8PanelMinTokens): rows read as
//   GemmRows reads them for decode, four rows a quarter of the range apart side by side (four
//   memory streams, asked of memory 2 KB ahead), meeting a register tile of tokens (4 with VNNI,
//   2 with AVX2) on activations laid out per token (Int8Activations).
// - GemmPanelsInt8 (prefill and big decode batches, AVX-512 VNNI): 16 rows at a time repacked
//   into a panel in the thread's scratch, one row per vector lane, once per block of tokens whose
//   activations stay in L2; the activations, laid out in tiles of kInt8TileTokens tokens
//   (Int8TokenTiles), are broadcast from memory 4 values at a time, so a vpdpbusd does 64 products
//   for 16 rows and the sums need no reduction across lanes.
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_

#include <cstddef>
#include <cstdint>

#include "lib/loader/quant_blocks.h"
#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// The activations of n_tokens tokens of cols values (a multiple of 32) as Q8_0 blocks, with each
// block's sum of values (what a Q4_K sub-block's minimum multiplies: cpu_gemm_q4_k_int8.h).
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
  const std::int32_t* sums(std::int64_t t) const { return sums_.data() + t * blocks(); }  // blocks() sums

  // Bytes one token's activations take (what a token block of them holds in L2).
  std::int64_t TokenBytes() const { return cols_ + blocks() * static_cast<std::int64_t>(sizeof(float) + sizeof(std::int32_t)); }

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

// Which kernel multiplies a Q8_0 product of n tokens (CpuMatmul::Multiply): where Int8PanelsRun
// (AVX-512 VNNI), GemmPanelsInt8 from kInt8PanelMinTokens tokens and GemmRowsInt8 below; on the
// other vector sets GemmRowsInt8 up to kInt8StreamMaxTokens, beyond that the activations rounded
// to Q8_0 (RoundToQ8_0) and multiplied in F32 by GemmRows, faster there than GemmRowsInt8. The
// same arithmetic every way, up to F32 rounding. Measured on a Xeon with VNNI (cpu_gemm_bench,
// 1536 x 576, one thread, two runs on a shared machine): the panels at 8, 32, 128, 512 tokens
// 1.9x, 2.9x, 3.3x, 2.5-3.2x GemmRowsInt8's speed and 2.8-3.4x, 3.1-3.4x, 2.6-2.7x, 1.7-2.8x
// GemmRows's; cace_gguf_speed decode of 8 sequences 1.4x GemmRowsInt8's tokens/s, of 4 no faster
// (rows read as stored keep up there).
inline constexpr std::int64_t kInt8PanelMinTokens = 5;
inline constexpr std::int64_t kInt8StreamMaxTokens = 8;

// Whether GemmPanelsInt8 has its vector kernel on isa (AVX-512 VNNI); elsewhere it is kmath's
// loop, there for the tests of the layout.
bool Int8PanelsRun(CpuIsa isa);

// Rows a GemmPanelsInt8 panel holds (one per lane of an AVX-512 vector), and tokens a tile holds.
inline constexpr std::int64_t kInt8PanelRows = 16;
inline constexpr int kInt8TileTokens = 8;

// One block of 32 values of a tile of kInt8TileTokens tokens: each token's quantized values and
// scale as Int8Activations holds them, and -128 x the sum of its values (GemmPanelsInt8 adds 128
// to the weights, to make them vpdpbusd's unsigned operand, and takes 128 x the sum off again).
struct Int8TileBlock {
  std::int8_t values[kInt8TileTokens][quant::kQ8_0BlockValues];
  float scales[kInt8TileTokens];
  std::int32_t minus_128_sums[kInt8TileTokens];
};

// The activations of n_tokens tokens of cols values (a multiple of 32) as Q8_0 blocks, tiled for
// GemmPanelsInt8: the blocks of tile i (tokens [8i, 8i + 8)) one after the other, so that the
// kernel reads a tile through one pointer.
class Int8TokenTiles {
 public:
  // Sizes the buffer for n_tokens x cols (cols a multiple of 32); keeps its capacity.
  void Resize(std::int64_t n_tokens, int cols);

  // Quantizes tokens [t0, t1) of x ([n_tokens][cols] floats) as Int8Activations::Quantize does;
  // disjoint ranges may run concurrently.
  void Quantize(const float* x, std::int64_t t0, std::int64_t t1);

  std::int64_t n_tokens() const { return n_tokens_; }
  int blocks() const { return cols_ / quant::kQ8_0BlockValues; }
  std::int64_t tiles() const { return (n_tokens_ + kInt8TileTokens - 1) / kInt8TileTokens; }
  const Int8TileBlock* tile(std::int64_t i) const { return blocks_.data() + i * blocks(); }  // blocks() blocks

  std::uint64_t CapacityBytes() const { return blocks_.capacity() * sizeof(Int8TileBlock); }

 private:
  std::int64_t n_tokens_ = 0;
  int cols_ = 0;
  AlignedVector<Int8TileBlock> blocks_;  // [tiles][cols / 32]
};

// Floats of the per-thread scratch GemmPanelsInt8 needs for w (one repacked panel).
std::size_t Int8PanelScratchFloats(const WeightMatrix& w);

// y[t * ldy + r] = the int8 product of Q8_0 row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x's cols == w.cols), 16 rows at a time (a range
// best starts at a multiple of 16: a panel of fewer rows costs as much as a full one).
void GemmPanelsInt8(CpuIsa isa, const WeightMatrix& w, const Int8TokenTiles& x, float* y, std::int64_t ldy,
                    std::int64_t row_begin, std::int64_t row_end, float* scratch);

// out = x with every block of 32 rounded as Int8Activations::Quantize rounds it (q * d), for
// tokens [t0, t1) of [n][cols] floats (cols a multiple of 32).
void RoundToQ8_0(const float* x, int cols, std::int64_t t0, std::int64_t t1, float* out);

// y[t * ldy + r] = the int8 product of Q8_0 row r of w with token t of x, for r in
// [row_begin, row_end) and every token of x (x.cols() == w.cols).
void GemmRowsInt8(CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy,
                  std::int64_t row_begin, std::int64_t row_end);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_INT8_H_
