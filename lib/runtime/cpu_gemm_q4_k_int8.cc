#include "lib/runtime/cpu_gemm_q4_k_int8.h"

#include "lib/runtime/cpu_avx2_sum.h"
#include "lib/runtime/cpu_int8_rows.h"
#include "lib/runtime/kernels_math.h"

#if CACE_X86_KERNELS
#include <immintrin.h>
#endif

namespace cace {
namespace {

constexpr int kSubBlock = quant::kQ8_0BlockValues;               // 32 values: one activation block
constexpr int kSubBlocks = quant::kQKValues / kSubBlock;          // 8 in a Q4_K block
constexpr int kNibbleOffset = 16;                                 // after d, dmin and the 12 scale bytes

using Tile = Int8RowTile;

constexpr int kBaselineTileTokens = 4;

void BaselineTile(const Tile& t) {
  float sums[kBaselineTileTokens][4] = {};
  for (int b = 0; b < t.x->cols() / quant::kQKValues; ++b) {
    for (int i = 0; i < t.tokens; ++i) {
      const std::int64_t token = t.token + i;
      const int first = b * kSubBlocks;  // the activation block of the Q4_K block's first sub-block
      for (int j = 0; j < 4; ++j) {
        sums[i][j] += kmath::DotQ4_KInt8Block(t.rows[j] + b * quant::kQ4_KBlockBytes, t.x->values(token) + first * kSubBlock,
                                              t.x->scales(token) + first, t.x->sums(token) + first);
      }
    }
  }
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

// ---- AVX-512 VNNI: two sub-blocks a vector; 4 tokens x 4 rows = 16 accumulators -----------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
namespace q4_k_vnni {
namespace {

constexpr int kTileTokens = 4;

// The 32 bytes of nibble pair p (sub-blocks 2p and 2p + 1) as 64 unsigned bytes: lanes 0-7 the
// low nibbles (sub-block 2p's values in order), lanes 8-15 the high ones (2p + 1's).
inline __m512i PairNibbles(const std::uint8_t* block, int p) {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + kNibbleOffset + 32 * p));
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(bytes, low4)),
                            _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4), 1);
}

// Lanes 0-7 get element 2p of v, lanes 8-15 element 2p + 1: a sub-block's factor for each half.
inline __m512 PairOf(__m512 v, int p) {
  const __m512i index = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
  return _mm512_permutexvar_ps(index, v);
}

// The eight scales (lanes 0-7) and minimums (lanes 8-15) of a Q4_K block, exactly
// quant::Q4KSubBlockScales's values, its 12 packed bytes unpacked four at a time: bytes 0-3 hold
// scales 0-3 in their low 6 bits, bytes 4-7 minimums 0-3; scales and minimums 4-7 take their low
// nibble from bytes 8-11 (low and high halves) and their top two bits from the tops of bytes 0-3
// and 4-7.
inline __m512 ScalesAndMins(const std::uint8_t* block) {
  std::uint32_t scales_low, mins_low, nibbles;
  __builtin_memcpy(&scales_low, block + 4, 4);
  __builtin_memcpy(&mins_low, block + 8, 4);
  __builtin_memcpy(&nibbles, block + 12, 4);
  const std::uint32_t scales_high = (nibbles & 0x0F0F0F0Fu) | ((scales_low >> 2) & 0x30303030u);
  const std::uint32_t mins_high = ((nibbles >> 4) & 0x0F0F0F0Fu) | ((mins_low >> 2) & 0x30303030u);
  const __m128i bytes = _mm_set_epi32(static_cast<int>(mins_high), static_cast<int>(mins_low & 0x3F3F3F3Fu),
                                      static_cast<int>(scales_high), static_cast<int>(scales_low & 0x3F3F3F3Fu));
  const __m512 d_dmin = _mm512_insertf32x8(_mm512_set1_ps(_cvtsh_ss(quant::LoadU16(block))),
                                           _mm256_set1_ps(_cvtsh_ss(quant::LoadU16(block + 2))), 1);
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), d_dmin);
}

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->cols() / quant::kQKValues;
  __m512 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int b = 0; b < n_blocks; ++b) {
    PrefetchInt8RowTile<2>(t, b * quant::kQ4_KBlockBytes);
    const std::uint8_t* block[4];
    __m512 scale[4], min[4];  // lanes 0-7: the sub-blocks' multipliers (the rest unused, or zero)
    for (int j = 0; j < 4; ++j) {
      block[j] = t.rows[j] + b * quant::kQ4_KBlockBytes;
      scale[j] = ScalesAndMins(block[j]);
      min[j] = _mm512_shuffle_f32x4(scale[j], scale[j], 0x4E);  // lanes 8-15 to 0-7
    }
    __m512 dx[MR];  // lanes 0-7: the activation steps of the block's sub-blocks
    for (int i = 0; i < MR; ++i) {
      const std::int64_t token = t.token + i;
      dx[i] = _mm512_maskz_loadu_ps(0xFF, t.x->scales(token) + b * kSubBlocks);
      // The minimums' term: sum over sub-blocks of min * dx * (sum of values).
      const __m512 sums = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(0xFF, t.x->sums(token) + b * kSubBlocks));
      const __m512 dx_sums = _mm512_mul_ps(dx[i], sums);
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fnmadd_ps(min[j], dx_sums, acc[i][j]);
    }
    for (int p = 0; p < kSubBlocks / 2; ++p) {
      __m512i w[4];
      __m512 scale_pair[4];
      for (int j = 0; j < 4; ++j) {
        w[j] = PairNibbles(block[j], p);
        scale_pair[j] = PairOf(scale[j], p);
      }
      for (int i = 0; i < MR; ++i) {
        const std::int64_t token = t.token + i;
        const __m512i xv = _mm512_loadu_si512(t.x->values(token) + b * quant::kQKValues + 2 * kSubBlock * p);
        const __m512 dx_pair = PairOf(dx[i], p);
        for (int j = 0; j < 4; ++j) {
          const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[j], xv);  // nibble x int8, in fours
          acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(scale_pair[j], dx_pair), acc[i][j]);
        }
      }
    }
  }
  float sums[kTileTokens][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) sums[i][j] = _mm512_reduce_add_ps(acc[i][j]);
  }
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
}  // namespace q4_k_vnni
#pragma GCC pop_options

// ---- AVX2: one sub-block a vector; 2 tokens x 4 rows = 8 accumulators ----------------------------
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace q4_k_avx2 {
namespace {

constexpr int kTileTokens = 2;

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->cols() / quant::kQKValues;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int b = 0; b < n_blocks; ++b) {
    PrefetchInt8RowTile<2>(t, b * quant::kQ4_KBlockBytes);
    const std::uint8_t* block[4];
    float scale[4][kSubBlocks];
    __m256 min[4];
    for (int j = 0; j < 4; ++j) {
      block[j] = t.rows[j] + b * quant::kQ4_KBlockBytes;
      float m[kSubBlocks];
      quant::Q4KSubBlockScales(block[j], scale[j], m);
      min[j] = _mm256_loadu_ps(m);
    }
    for (int i = 0; i < MR; ++i) {
      const std::int64_t token = t.token + i;
      const __m256 sums = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.x->sums(token) + b * kSubBlocks)));
      const __m256 dx_sums = _mm256_mul_ps(_mm256_loadu_ps(t.x->scales(token) + b * kSubBlocks), sums);
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_fnmadd_ps(min[j], dx_sums, acc[i][j]);
    }
    for (int s = 0; s < kSubBlocks; ++s) {
      __m256i w[4];
      for (int j = 0; j < 4; ++j) {
        const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block[j] + kNibbleOffset + 32 * (s / 2)));
        w[j] = _mm256_and_si256(s % 2 == 0 ? bytes : _mm256_srli_epi16(bytes, 4), low4);
      }
      for (int i = 0; i < MR; ++i) {
        const std::int64_t token = t.token + i;
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.x->values(token) + b * quant::kQKValues + kSubBlock * s));
        const float dx = t.x->scales(token)[b * kSubBlocks + s];
        for (int j = 0; j < 4; ++j) {
          // nibble x int8 in pairs (at most 2 x 15 x 128 in magnitude: no saturation), then fours.
          const __m256i quads = _mm256_madd_epi16(_mm256_maddubs_epi16(w[j], xv), ones);
          acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(quads), _mm256_set1_ps(scale[j][s] * dx), acc[i][j]);
        }
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
}  // namespace q4_k_avx2
#pragma GCC pop_options
#pragma GCC diagnostic pop
#endif  // CACE_X86_KERNELS

void GemmRowsQ4_KInt8([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y,
                      std::int64_t ldy, std::int64_t row_begin, std::int64_t row_end) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512Vnni) {
    return q4_k_vnni::Rows(w, x, y, ldy, row_begin, row_end);
  }
  if (isa >= CpuIsa::kAvx2) return q4_k_avx2::Rows(w, x, y, ldy, row_begin, row_end);
#endif
  BaselineRows(w, x, y, ldy, row_begin, row_end);
}

}  // namespace cace
