#include "lib/runtime/cpu_gemm_int8.h"

#include <algorithm>

#include "lib/runtime/cpu_avx2_sum.h"
#include "lib/runtime/cpu_avx2_transpose.h"
#include "lib/runtime/cpu_int8_rows.h"
#include "lib/runtime/kernels_math.h"

#if CACE_X86_KERNELS
#include <immintrin.h>
#endif

namespace cace {
namespace {

constexpr int kBlock = quant::kQ8_0BlockValues;
constexpr int kBlockBytes = quant::kQ8_0BlockBytes;

using Tile = Int8RowTile;

// Block b of every (row, token) pair of the tile by kmath: the portable set, and the odd last block
// of the vector sets (which take blocks in pairs).
void AddBlockTail(const Tile& t, int b, float sums[][4]) {
  for (int i = 0; i < t.tokens; ++i) {
    for (int j = 0; j < 4; ++j) {
      sums[i][j] += kmath::DotQ8_0Int8Block(t.rows[j] + b * kBlockBytes, t.x->values(t.token + i) + b * kBlock,
                                            t.x->scales(t.token + i)[b]);
    }
  }
}

constexpr int kBaselineTileTokens = 4;

void BaselineTile(const Tile& t) {
  float sums[kBaselineTileTokens][4] = {};
  for (int b = 0; b < t.x->blocks(); ++b) AddBlockTail(t, b, sums);
  StoreInt8RowTile(t, sums);
}

void BaselineRows(const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy, std::int64_t row_begin,
                  std::int64_t row_end) {
  DriveInt8Rows<BaselineTile>(w, x, y, ldy, row_begin, row_end, kBaselineTileTokens);
}

}  // namespace

#if CACE_X86_KERNELS
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// ---- AVX-512 VNNI: two blocks a vector; 4 tokens x 4 rows = 16 accumulators ----------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
namespace int8_vnni {
namespace {

constexpr int kTileTokens = 4;

// Lanes 0-7 get element 0 of v, lanes 8-15 element 1: a scale for each block of a vector.
inline __m512 TwoScales(__m128 v) {
  return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_castps128_ps512(v));
}

inline float Sum(__m512 v) { return _mm512_reduce_add_ps(v); }

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->blocks();
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));  // +128 as unsigned, x ^ 0x80 as signed
  __m512 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  int b = 0;
  for (; b + 2 <= n_blocks; b += 2) {
    PrefetchInt8RowTile<1>(t, b * kBlockBytes);
    __m512i w[4], minus_128_sum[4];
    __m512 dw[4];
    for (int j = 0; j < 4; ++j) {
      const std::uint8_t* p = t.rows[j] + b * kBlockBytes;
      w[j] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2))),
                                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + kBlockBytes + 2)), 1);
      minus_128_sum[j] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, w[j]));
      const int halves = quant::LoadU16(p) | (quant::LoadU16(p + kBlockBytes) << 16);
      dw[j] = TwoScales(_mm_cvtph_ps(_mm_cvtsi32_si128(halves)));
    }
    for (int i = 0; i < MR; ++i) {
      const __m512i xu = _mm512_xor_si512(_mm512_loadu_si512(t.x->values(t.token + i) + b * kBlock), offset);
      double two_scales;
      __builtin_memcpy(&two_scales, t.x->scales(t.token + i) + b, sizeof two_scales);
      const __m512 dx = TwoScales(_mm_castpd_ps(_mm_set_sd(two_scales)));
      for (int j = 0; j < 4; ++j) {
        const __m512i dot = _mm512_dpbusd_epi32(minus_128_sum[j], xu, w[j]);  // sum (x + 128) w - 128 sum w
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw[j], dx), acc[i][j]);
      }
    }
  }
  float sums[kTileTokens][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) sums[i][j] = Sum(acc[i][j]);
  }
  if (b < n_blocks) AddBlockTail(t, b, sums);
  StoreInt8RowTile(t, sums);
}

void TileUpTo(const Tile& t) {
  switch (t.tokens) {
    case 1: return TileOf<1>(t);
    case 2: return TileOf<2>(t);
    case 3: return TileOf<3>(t);
    default: return TileOf<4>(t);
  }
}


// GemmRows*Int8 of this vector set: the driver with this set's tile inlined (cpu_int8_rows.h).
void Rows(const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy, std::int64_t row_begin,
          std::int64_t row_end) {
  DriveInt8Rows<TileUpTo>(w, x, y, ldy, row_begin, row_end, kTileTokens);
}

}  // namespace
}  // namespace int8_vnni
#pragma GCC pop_options

// ---- AVX2: one block a vector; 2 tokens x 4 rows = 8 accumulators --------------------------------
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace int8_avx2 {
namespace {

constexpr int kTileTokens = 2;

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->blocks();
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int b = 0; b < n_blocks; ++b) {
    PrefetchInt8RowTile<1>(t, b * kBlockBytes);
    __m256i w[4], w_abs[4];
    float dw[4];
    for (int j = 0; j < 4; ++j) {
      const std::uint8_t* p = t.rows[j] + b * kBlockBytes;
      w[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
      w_abs[j] = _mm256_abs_epi8(w[j]);
      dw[j] = _cvtsh_ss(quant::LoadU16(p));
    }
    for (int i = 0; i < MR; ++i) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.x->values(t.token + i) + b * kBlock));
      const float dx = t.x->scales(t.token + i)[b];
      for (int j = 0; j < 4; ++j) {
        // |w| x sign(w) x: pairs of products in int16 (at most 2 x 128 x 127, no saturation), then fours.
        const __m256i pairs = _mm256_maddubs_epi16(w_abs[j], _mm256_sign_epi8(x, w[j]));
        const __m256i quads = _mm256_madd_epi16(pairs, ones);
        acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(quads), _mm256_set1_ps(dw[j] * dx), acc[i][j]);
      }
    }
  }
  float sums[kTileTokens][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) sums[i][j] = avx2::SumLanes(acc[i][j]);
  }
  StoreInt8RowTile(t, sums);
}

void TileUpTo(const Tile& t) { return t.tokens == 1 ? TileOf<1>(t) : TileOf<2>(t); }


// GemmRows*Int8 of this vector set: the driver with this set's tile inlined (cpu_int8_rows.h).
void Rows(const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy, std::int64_t row_begin,
          std::int64_t row_end) {
  DriveInt8Rows<TileUpTo>(w, x, y, ldy, row_begin, row_end, kTileTokens);
}

}  // namespace
}  // namespace int8_avx2
#pragma GCC pop_options

// ---- AVX-512 VNNI panels: 16 rows in the lanes, 8 tokens = 8 accumulators ------------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
namespace int8_panels {
namespace {

// A panel block: 8 vectors, vector g holding in lane l values 4g..4g+3 of row l plus 128 (as
// unsigned bytes: vpdpbusd's unsigned operand is a register, so the signed one, the activations,
// can be broadcast from memory), then the 16 rows' scales as F32. 576 bytes per 32 values.
constexpr int kGroups = kBlock / 4;
constexpr int kVectorBytes = 64;
constexpr std::int64_t kPanelBlockBytes = (kGroups + 1) * kVectorBytes;

// Rows [r0, r0 + valid) of w into panel (valid <= 16; the lanes past them repeat the last row).
// Per block, the 16 rows' eight groups of four values are transposed in registers, eight rows at a
// time (gathering the 16 lanes instead cost about 27 cycles a gather on a Zen 5 and made the repack,
// not the products, most of a decode step at 8 sequences: 119 tokens/s there against 333).
// The next panel's rows (contiguous, like these) are asked of memory meanwhile, a block's share
// per block: a decode step at 8 sequences repacks every weight once, from memory, and the
// prefetchers alone left the repack waiting on it (cace_gguf_speed, SmolLM2 Q8_0 at 8 sequences, one
// thread of a Zen 5: 333 tokens/s without, 624 with).
void Repack(const WeightMatrix& w, std::int64_t r0, int valid, std::byte* panel) {
  const __m512i plus_128 = _mm512_set1_epi8(static_cast<char>(0x80));
  const std::byte* row[kInt8PanelRows];
  for (int l = 0; l < kInt8PanelRows; ++l) row[l] = w.Row(r0 + std::min(l, valid - 1));
  const int blocks = static_cast<int>(w.cols / kBlock);
  const bool next_panel = r0 + 2 * kInt8PanelRows <= w.rows;
  const char* next = reinterpret_cast<const char*>(w.Row(next_panel ? r0 + kInt8PanelRows : r0));
  const std::int64_t next_share = kInt8PanelRows * kBlockBytes;  // the next panel's bytes / blocks
  for (int b = 0; b < blocks; ++b, panel += kPanelBlockBytes) {
    if (next_panel) {
      for (std::int64_t at = b * next_share; at < (b + 1) * next_share; at += 64) __builtin_prefetch(next + at);
    }
    __m256 low[8], high[8];  // the groups of rows 0-7 and of rows 8-15
    alignas(32) std::uint16_t scales[kInt8PanelRows];
    for (int l = 0; l < 8; ++l) {
      const std::byte* block = row[l] + b * kBlockBytes;
      const std::byte* block_high = row[l + 8] + b * kBlockBytes;
      low[l] = _mm256_loadu_ps(reinterpret_cast<const float*>(block + 2));
      high[l] = _mm256_loadu_ps(reinterpret_cast<const float*>(block_high + 2));
      __builtin_memcpy(&scales[l], block, 2);
      __builtin_memcpy(&scales[l + 8], block_high, 2);
    }
    avx2::Transpose8x8(low);
    avx2::Transpose8x8(high);
    for (int g = 0; g < kGroups; ++g) {
      const __m512i values = _mm512_castps_si512(_mm512_insertf32x8(_mm512_castps256_ps512(low[g]), high[g], 1));
      _mm512_store_si512(panel + g * kVectorBytes, _mm512_xor_si512(values, plus_128));
    }
    _mm512_store_ps(panel + kGroups * kVectorBytes,
                    _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales))));
  }
}

inline __m512i BroadcastFour(const std::int8_t* p) {
  std::int32_t four;
  __builtin_memcpy(&four, p, sizeof four);
  return _mm512_set1_epi32(four);
}

// y[i * ldy + l] for the lanes l in `rows` = panel row l times token i of the tile, i < kTokens.
template <int kTokens>
void PanelTimesTile(const std::byte* panel, const Int8TileBlock* tile, int blocks, float* y, std::int64_t ldy,
                    __mmask16 rows) {
  __m512 acc[kTokens];
  for (int i = 0; i < kTokens; ++i) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < blocks; ++b, panel += kPanelBlockBytes) {
    const Int8TileBlock& x = tile[b];
    __m512i dot[kTokens];
    for (int i = 0; i < kTokens; ++i) dot[i] = _mm512_set1_epi32(x.minus_128_sums[i]);
    for (int g = 0; g < kGroups; ++g) {
      const __m512i w = _mm512_load_si512(panel + g * kVectorBytes);
      for (int i = 0; i < kTokens; ++i) dot[i] = _mm512_dpbusd_epi32(dot[i], w, BroadcastFour(x.values[i] + 4 * g));
    }
    const __m512 dw = _mm512_load_ps(panel + kGroups * kVectorBytes);
    for (int i = 0; i < kTokens; ++i) {  // sum (w + 128) x - 128 sum x = sum w x, exact
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[i]), _mm512_mul_ps(dw, _mm512_set1_ps(x.scales[i])), acc[i]);
    }
  }
  for (int i = 0; i < kTokens; ++i) _mm512_mask_storeu_ps(y + i * ldy, rows, acc[i]);
}

void PanelTimesTileOf(int tokens, const std::byte* panel, const Int8TileBlock* tile, int blocks, float* y,
                      std::int64_t ldy, __mmask16 rows) {
  static_assert(kInt8TileTokens == 8);
  switch (tokens) {
    case 1: return PanelTimesTile<1>(panel, tile, blocks, y, ldy, rows);
    case 2: return PanelTimesTile<2>(panel, tile, blocks, y, ldy, rows);
    case 3: return PanelTimesTile<3>(panel, tile, blocks, y, ldy, rows);
    case 4: return PanelTimesTile<4>(panel, tile, blocks, y, ldy, rows);
    case 5: return PanelTimesTile<5>(panel, tile, blocks, y, ldy, rows);
    case 6: return PanelTimesTile<6>(panel, tile, blocks, y, ldy, rows);
    case 7: return PanelTimesTile<7>(panel, tile, blocks, y, ldy, rows);
    default: return PanelTimesTile<8>(panel, tile, blocks, y, ldy, rows);
  }
}

// Token blocks whose tiles stay in L2, each panel repacked once per token block.
void DrivePanels(const WeightMatrix& w, const Int8TokenTiles& x, float* y, std::int64_t ldy, std::int64_t row_begin,
                 std::int64_t row_end, std::byte* panel) {
  const int blocks = x.blocks();
  const std::int64_t tile_bytes = blocks * static_cast<std::int64_t>(sizeof(Int8TileBlock));
  const std::int64_t block_tiles = std::max<std::int64_t>(1, kInt8RowsTokenBlockBytes / tile_bytes);
  for (std::int64_t tile0 = 0; tile0 < x.tiles(); tile0 += block_tiles) {
    const std::int64_t tile1 = std::min(x.tiles(), tile0 + block_tiles);
    for (std::int64_t r = row_begin; r < row_end; r += kInt8PanelRows) {
      const int valid = static_cast<int>(std::min(kInt8PanelRows, row_end - r));
      Repack(w, r, valid, panel);
      const auto rows = static_cast<__mmask16>((1u << valid) - 1);
      for (std::int64_t i = tile0; i < tile1; ++i) {
        const std::int64_t t = i * kInt8TileTokens;
        const int tokens = static_cast<int>(std::min<std::int64_t>(kInt8TileTokens, x.n_tokens() - t));
        PanelTimesTileOf(tokens, panel, x.tile(i), blocks, y + t * ldy + r, ldy, rows);
      }
    }
  }
}

}  // namespace
}  // namespace int8_panels
#pragma GCC pop_options
#pragma GCC diagnostic pop
#endif  // CACE_X86_KERNELS

void Int8Activations::Resize(std::int64_t n_tokens, int cols) {
  n_tokens_ = n_tokens;
  cols_ = cols;
  q_.resize(static_cast<std::size_t>(n_tokens * cols));
  d_.resize(static_cast<std::size_t>(n_tokens * blocks()));
  sums_.resize(static_cast<std::size_t>(n_tokens * blocks()));
}

CACE_CPU_CLONES void Int8Activations::Quantize(const float* x, std::int64_t t0, std::int64_t t1) {
  for (std::int64_t t = t0; t < t1; ++t) {
    std::int8_t* q = q_.data() + t * cols_;
    float* d = d_.data() + t * blocks();
    std::int32_t* sums = sums_.data() + t * blocks();
    for (int b = 0; b < blocks(); ++b) {
      d[b] = kmath::QuantizeQ8_0Block(x + t * cols_ + b * kBlock, q + b * kBlock);
      std::int32_t sum = 0;
      for (int l = 0; l < kBlock; ++l) sum += q[b * kBlock + l];
      sums[b] = sum;
    }
  }
}

CACE_CPU_CLONES void RoundToQ8_0(const float* x, int cols, std::int64_t t0, std::int64_t t1, float* out) {
  for (std::int64_t i = t0 * cols; i < t1 * cols; i += kBlock) kmath::RoundToQ8_0Block(x + i, out + i);
}

void Int8TokenTiles::Resize(std::int64_t n_tokens, int cols) {
  n_tokens_ = n_tokens;
  cols_ = cols;
  blocks_.resize(static_cast<std::size_t>(tiles() * blocks()));
}

CACE_CPU_CLONES void Int8TokenTiles::Quantize(const float* x, std::int64_t t0, std::int64_t t1) {
  for (std::int64_t t = t0; t < t1; ++t) {
    Int8TileBlock* tile = blocks_.data() + t / kInt8TileTokens * blocks();
    const std::int64_t i = t % kInt8TileTokens;
    for (int b = 0; b < blocks(); ++b) {
      std::int8_t* q = tile[b].values[i];
      tile[b].scales[i] = kmath::QuantizeQ8_0Block(x + t * cols_ + b * kBlock, q);
      std::int32_t sum = 0;
      for (int v = 0; v < kBlock; ++v) sum += q[v];
      tile[b].minus_128_sums[i] = -128 * sum;
    }
  }
}

bool Int8PanelsRun([[maybe_unused]] CpuIsa isa) { return CACE_X86_KERNELS && isa >= CpuIsa::kAvx512Vnni; }

std::size_t Int8PanelScratchFloats(const WeightMatrix& w) {
#if CACE_X86_KERNELS
  return static_cast<std::size_t>(w.cols / kBlock * int8_panels::kPanelBlockBytes) / sizeof(float);
#else
  return 0;
#endif
}

void GemmPanelsInt8([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, const Int8TokenTiles& x, float* y,
                    std::int64_t ldy, std::int64_t row_begin, std::int64_t row_end, [[maybe_unused]] float* scratch) {
#if CACE_X86_KERNELS
  if (Int8PanelsRun(isa)) {
    return int8_panels::DrivePanels(w, x, y, ldy, row_begin, row_end, reinterpret_cast<std::byte*>(scratch));
  }
#endif
  for (std::int64_t r = row_begin; r < row_end; ++r) {  // kmath's loop, on the tiles as laid out
    const auto* row = reinterpret_cast<const std::uint8_t*>(w.Row(r));
    for (std::int64_t t = 0; t < x.n_tokens(); ++t) {
      const Int8TileBlock* tile = x.tile(t / kInt8TileTokens);
      const std::int64_t i = t % kInt8TileTokens;
      float sum = 0.0f;
      for (int b = 0; b < x.blocks(); ++b) {
        sum += kmath::DotQ8_0Int8Block(row + b * kBlockBytes, tile[b].values[i], tile[b].scales[i]);
      }
      y[t * ldy + r] = sum;
    }
  }
}

void GemmRowsInt8([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y,
                  std::int64_t ldy, std::int64_t row_begin, std::int64_t row_end) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512Vnni) {
    return int8_vnni::Rows(w, x, y, ldy, row_begin, row_end);
  }
  if (isa >= CpuIsa::kAvx2) return int8_avx2::Rows(w, x, y, ldy, row_begin, row_end);
#endif
  BaselineRows(w, x, y, ldy, row_begin, row_end);
}

}  // namespace cace
