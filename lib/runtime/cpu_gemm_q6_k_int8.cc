#include "lib/runtime/cpu_gemm_q6_k_int8.h"

#include "lib/runtime/cpu_avx2_sum.h"
#include "lib/runtime/cpu_int8_rows.h"
#include "lib/runtime/kernels_math.h"

#if CACE_X86_KERNELS
#include <immintrin.h>
#endif

namespace cace {
namespace {

constexpr int kActivationBlock = quant::kQ8_0BlockValues;              // 32 values, one step each
constexpr int kActivationBlocks = quant::kQKValues / kActivationBlock;  // 8 in a Q6_K block

using Tile = Int8RowTile;

constexpr int kBaselineTileTokens = 4;

void BaselineTile(const Tile& t) {
  float sums[kBaselineTileTokens][4] = {};
  for (int b = 0; b < t.x->cols() / quant::kQKValues; ++b) {
    for (int i = 0; i < t.tokens; ++i) {
      const std::int64_t token = t.token + i;
      for (int j = 0; j < 4; ++j) {
        sums[i][j] += kmath::DotQ6_KInt8Block(t.rows[j] + b * quant::kQ6_KBlockBytes, t.x->values(token) + b * quant::kQKValues,
                                              t.x->scales(token) + b * kActivationBlocks);
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
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")
namespace q6_k_vnni {
namespace {

constexpr int kTileTokens = 4;

// The 64 6-bit values of chunk c (values 64c to 64c + 63) of half h of a Q6_K block, as unsigned
// bytes in order: chunk 0 takes the low nibbles of the half's 64 ql bytes and bits 0-1 (values
// 0-31) and 2-3 (32-63) of its 32 qh bytes; chunk 1 the high nibbles and bits 4-5 and 6-7.
inline __m512i ChunkValues(const std::uint8_t* block, int h, int c) {
  const __m512i ql = _mm512_loadu_si512(block + 64 * h);
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 128 + 32 * h));
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i first = _mm256_and_si256(_mm256_srli_epi16(qh, 4 * c), two_bits);
  const __m256i second = _mm256_and_si256(_mm256_srli_epi16(qh, 4 * c + 2), two_bits);
  const __m512i high = _mm512_slli_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1), 4);
  const __m512i low = _mm512_and_si512(c == 0 ? ql : _mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F));
  return _mm512_or_si512(low, high);
}

// Lane l gets element first + (l >> kShift) of v: 2 spreads a sub-block's scale over its 4 lanes,
// 3 an activation block's step over its 8.
template <int kShift>
inline __m512 Spread(__m512 v, int first) {
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(first), _mm512_srli_epi32(lane, kShift));
  return _mm512_permutexvar_ps(index, v);
}

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->cols() / quant::kQKValues;
  const __m512i thirty_two = _mm512_set1_epi8(32);
  __m512 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int b = 0; b < n_blocks; ++b) {
    PrefetchInt8RowTile<3>(t, b * quant::kQ6_KBlockBytes);
    const std::uint8_t* block[4];
    __m512 scales[4];  // lane s: d * sc[s], the 16 sub-blocks' multipliers
    for (int j = 0; j < 4; ++j) {
      block[j] = t.rows[j] + b * quant::kQ6_KBlockBytes;
      const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block[j] + 192))));
      scales[j] = _mm512_mul_ps(sc, _mm512_set1_ps(_cvtsh_ss(quant::LoadU16(block[j] + 208))));
    }
    __m512 dx[MR];  // lanes 0-7: the steps of the block's eight activation blocks
    for (int i = 0; i < MR; ++i) dx[i] = _mm512_maskz_loadu_ps(0xFF, t.x->scales(t.token + i) + b * kActivationBlocks);
    for (int chunk = 0; chunk < 4; ++chunk) {  // 64 values: 4 sub-blocks, 2 activation blocks
      const int h = chunk / 2, c = chunk % 2;
      __m512i w[4];
      __m512 scale[4];
      for (int j = 0; j < 4; ++j) {
        w[j] = ChunkValues(block[j], h, c);
        scale[j] = Spread<2>(scales[j], 4 * chunk);
      }
      for (int i = 0; i < MR; ++i) {
        const __m512i xv = _mm512_loadu_si512(t.x->values(t.token + i) + b * quant::kQKValues + 64 * chunk);
        // Each lane starts from -32 x the sum of its four activations: sum (w - 32) x exactly.
        const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), thirty_two, xv));
        const __m512 step = Spread<3>(dx[i], 2 * chunk);
        for (int j = 0; j < 4; ++j) {
          const __m512i dot = _mm512_dpbusd_epi32(start, w[j], xv);
          acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(scale[j], step), acc[i][j]);
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
}  // namespace q6_k_vnni
#pragma GCC pop_options

// ---- AVX2: one activation block (two sub-blocks) a vector; 2 tokens x 4 rows = 8 accumulators ----
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace q6_k_avx2 {
namespace {

constexpr int kTileTokens = 2;

// The 32 6-bit values of activation block a (values 32a to 32a + 31) of a Q6_K block, as unsigned
// bytes in order: in half h = a / 4, quarter k = a % 4 takes the low (k < 2) or high nibbles of ql
// bytes 32 (k % 2) to 32 (k % 2) + 31 and bits 2k, 2k + 1 of the half's 32 qh bytes.
inline __m256i BlockValues(const std::uint8_t* block, int a) {
  const int h = a / 4, k = a % 4;
  const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 64 * h + 32 * (k % 2)));
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 128 + 32 * h));
  const __m256i low = _mm256_and_si256(k < 2 ? ql : _mm256_srli_epi16(ql, 4), _mm256_set1_epi8(0x0F));
  const __m256i high = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * k), 4), _mm256_set1_epi8(0x30));
  return _mm256_or_si256(low, high);
}

template <int MR>
void TileOf(const Tile& t) {
  const int n_blocks = t.x->cols() / quant::kQKValues;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i thirty_two = _mm256_set1_epi8(32);
  // Lanes 0-3 sum values 0-15 of a block of 32 (the first sub-block), lanes 4-7 values 16-31.
  const __m256i sub_block_of_lane = _mm256_set_epi32(1, 1, 1, 1, 0, 0, 0, 0);
  __m256 acc[MR][4];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  for (int b = 0; b < n_blocks; ++b) {
    PrefetchInt8RowTile<3>(t, b * quant::kQ6_KBlockBytes);
    const std::uint8_t* block[4];
    __m256 scales[4][2];  // d * sc[s] for the 16 sub-blocks, eight a vector
    for (int j = 0; j < 4; ++j) {
      block[j] = t.rows[j] + b * quant::kQ6_KBlockBytes;
      const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block[j] + 192));
      const __m256 d = _mm256_set1_ps(_cvtsh_ss(quant::LoadU16(block[j] + 208)));
      scales[j][0] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)), d);
      scales[j][1] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))), d);
    }
    for (int a = 0; a < kActivationBlocks; ++a) {
      __m256i w[4];
      __m256 scale[4];  // the two sub-blocks' multipliers, each over its four lanes
      const __m256i pick = _mm256_add_epi32(sub_block_of_lane, _mm256_set1_epi32(2 * (a % 4)));
      for (int j = 0; j < 4; ++j) {
        w[j] = BlockValues(block[j], a);
        scale[j] = _mm256_permutevar8x32_ps(scales[j][a / 4], pick);
      }
      for (int i = 0; i < MR; ++i) {
        const std::int64_t token = t.token + i;
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.x->values(token) + b * quant::kQKValues + kActivationBlock * a));
        // 6-bit x int8 in pairs (at most 2 x 63 x 128 in magnitude: no saturation), then fours;
        // 32 x the activations' sums in fours taken off: sum (w - 32) x exactly.
        const __m256i offset = _mm256_madd_epi16(_mm256_maddubs_epi16(thirty_two, xv), ones);
        const __m256 dx = _mm256_set1_ps(t.x->scales(token)[b * kActivationBlocks + a]);
        for (int j = 0; j < 4; ++j) {
          const __m256i dot = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(w[j], xv), ones), offset);
          acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(scale[j], dx), acc[i][j]);
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
}  // namespace q6_k_avx2
#pragma GCC pop_options
#pragma GCC diagnostic pop
#endif  // CACE_X86_KERNELS

bool Q6_KInt8Runs([[maybe_unused]] CpuIsa isa) { return CACE_X86_KERNELS && isa >= CpuIsa::kAvx2; }

void GemmRowsQ6_KInt8([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, const Int8Activations& x, float* y,
                      std::int64_t ldy, std::int64_t row_begin, std::int64_t row_end) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512Vnni) {
    return q6_k_vnni::Rows(w, x, y, ldy, row_begin, row_end);
  }
  if (isa >= CpuIsa::kAvx2) return q6_k_avx2::Rows(w, x, y, ldy, row_begin, row_end);
#endif
  BaselineRows(w, x, y, ldy, row_begin, row_end);
}

}  // namespace cace
