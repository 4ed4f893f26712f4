#include "lib/runtime/cpu_gemm.h"

#include <algorithm>

#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_avx2_transpose.h"
#include "lib/runtime/cpu_matmul.h"
#include "lib/runtime/kernels_math.h"

#if CACE_X86_KERNELS
#include <immintrin.h>
#endif

namespace cace {
namespace {

// Activations of one token block stay within this many bytes: half the L2 cache of a core on the
// Xeon this was tuned on (2 MiB), leaving room for the widened rows and the output.
constexpr std::int64_t kTokenBlockBytes = 1024 * 1024;

// Rows widened together for prefill: 64 rows of 1536 floats are 384 KiB, in L2 beside the
// activations of a token block.
constexpr std::int64_t kPanelRows = 64;

// Rows of a panel widened at a time, then transposed into it (PackPanel): eight rows of floats,
// one AVX2 transpose high, stay in L1.
constexpr int kPackRows = 8;

// Up to how many rows of a (query heads of a key/value head) DotProducts takes LaneDots.
[[maybe_unused]] constexpr std::int64_t kLaneDotsMaxRows = 8;

// Positions ahead of the one being read whose cached key or value rows attention asks of memory
// (attention_bench at e322d33, cold cache, one Zen 5 core: 95-100 M head-positions/s with them,
// 84-86 M without).
[[maybe_unused]] constexpr std::int64_t kAttentionPrefetchRows = 16;

[[maybe_unused]] inline void PrefetchFloats(const float* p, std::int64_t n) {
  constexpr auto kLineFloats = static_cast<std::int64_t>(kCacheLineBytes / sizeof(float));
  for (std::int64_t i = 0; i < n; i += kLineFloats) __builtin_prefetch(p + i);
}

[[maybe_unused]] std::int64_t TokenBlock(int cols, int tile) {
  const std::int64_t fit = kTokenBlockBytes / (static_cast<std::int64_t>(cols) * 4);
  return std::max<std::int64_t>(tile, fit / tile * tile);
}

// The baseline set: rows widened by DequantizeRow, dotted by kmath (vectorised by the compiler).
void BaselineRows(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y, std::int64_t ldy,
                  std::int64_t row_begin, std::int64_t row_end, float* scratch) {
  const int cols = static_cast<int>(w.cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* row = reinterpret_cast<const float*>(w.Row(r));
    if (w.dtype != DType::kF32) {
      DequantizeRow(w, r, scratch);
      row = scratch;
    }
    for (std::int64_t t = 0; t < n_tokens; ++t) y[t * ldy + r] = kmath::DotF32(row, x + t * cols, cols);
  }
}

}  // namespace

#if CACE_X86_KERNELS
// ---- AVX-512: 16 floats a vector; decode 6 tokens x 4 rows, prefill 6 tokens x 64 rows = 24 ------
// ---- accumulators of the 32 registers ----------------------------------------------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wuninitialized reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace gemm_avx512 {
namespace {

using Vec = __m512;
constexpr int kLanes = 16;
constexpr int kTileTokens = 6;
constexpr int kSumQueries = 4;
// Read as stored up to 8 tokens, F32 up to 16 and F16 up to 32 (DirectMaxTokens): the widening
// of an F16 panel costs more than the products of 32 tokens read as stored (cace_gguf_speed,
// SmolLM2 F16 decode at 16 and 32 sequences, one Zen 5 core, two alternating rounds: 565.9 and
// 528.4 tokens/s read as stored, 362.7 and 469.0 in panels; tiny F16 at 32: 834.3 against 705.4;
// SmolLM2 F16 at 32 on two threads: 814.5 against 764.2), F32's only up to 16 (SmolLM2 F32 at 16:
// 324.0 against 298.9; at 32: 374.6 against 413.5). BF16 and the AVX2 set were not measured.
constexpr std::int64_t kDirectMaxTokens = 8;
constexpr std::int64_t kDirectMaxTokensF32 = 16;
constexpr std::int64_t kDirectMaxTokensF16 = 32;
constexpr int kPanelVecs = 4;
constexpr int kBroadcastTokens = 6;

inline Vec LoadFloats(const float* p) { return _mm512_loadu_ps(p); }
inline Vec Broadcast(const float* p) { return _mm512_set1_ps(*p); }
inline void Store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec Set1(float x) { return _mm512_set1_ps(x); }
inline Vec Zero() { return _mm512_setzero_ps(); }
inline Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec Mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
inline Vec Sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float HalfScalar(std::uint16_t h) { return _cvtsh_ss(h); }
inline Vec LoadHalves(const std::uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline Vec LoadBf16s(const std::uint16_t* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
inline Vec LoadInt8s(const std::uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline Vec LoadNibbles(const std::uint8_t* p, int shift) {
  const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srl_epi32(bytes, _mm_cvtsi32_si128(shift)), _mm512_set1_epi32(0x0F)));
}
inline Vec LoadQ6_K(const std::uint8_t* low, int low_shift, const std::uint8_t* high, int high_shift) {
  const __m512i l = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(low)));
  const __m512i h = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(high)));
  const __m512i q = _mm512_or_si512(_mm512_and_si512(_mm512_srl_epi32(l, _mm_cvtsi32_si128(low_shift)), _mm512_set1_epi32(0x0F)),
                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srl_epi32(h, _mm_cvtsi32_si128(high_shift)), _mm512_set1_epi32(3)), 4));
  return _mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(32)));
}

// Four horizontal sums at once: halves of each pair interleaved and added (two 128-bit lanes of a
// and two of b in one register, then one lane each of a, b, c, d), then the four floats of every
// lane summed in place; lane i's first float is the sum of v[i].
inline void Sum4(const Vec v[4], float out[4]) {
  const Vec ab = _mm512_add_ps(_mm512_shuffle_f32x4(v[0], v[1], 0x44), _mm512_shuffle_f32x4(v[0], v[1], 0xEE));
  const Vec cd = _mm512_add_ps(_mm512_shuffle_f32x4(v[2], v[3], 0x44), _mm512_shuffle_f32x4(v[2], v[3], 0xEE));
  Vec s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4E));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xB1));
  const Vec firsts = _mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0), s);
  _mm_storeu_ps(out, _mm512_castps512_ps128(firsts));
}

// Lane j of the result is the sum of v[j]'s 16 lanes: pairs of vectors interleaved and added
// within 128-bit lanes (8, then 4 vectors), then 128-bit lanes exchanged and added (2, then 1).
inline Vec ReduceLanes(const Vec v[16]) {
  Vec pairs[8], quads[4], octs[2];
  for (int i = 0; i < 8; ++i) {
    pairs[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  }
  for (int i = 0; i < 4; ++i) {
    quads[i] = _mm512_add_ps(_mm512_shuffle_ps(pairs[2 * i], pairs[2 * i + 1], 0x44),
                             _mm512_shuffle_ps(pairs[2 * i], pairs[2 * i + 1], 0xEE));
  }
  for (int i = 0; i < 2; ++i) {
    octs[i] = _mm512_add_ps(_mm512_shuffle_f32x4(quads[2 * i], quads[2 * i + 1], 0x88),
                            _mm512_shuffle_f32x4(quads[2 * i], quads[2 * i + 1], 0xDD));
  }
  return _mm512_add_ps(_mm512_shuffle_f32x4(octs[0], octs[1], 0x88), _mm512_shuffle_f32x4(octs[0], octs[1], 0xDD));
}

#include "lib/runtime/cpu_gemm_kernel.inc"

}  // namespace
}  // namespace gemm_avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options

// ---- AVX2: 8 floats a vector; decode 2 tokens x 4 rows = 8 accumulators of the 16 registers, ----
// ---- prefill 6 tokens x 16 rows = 12 -----------------------------------------------------------
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace gemm_avx2 {
namespace {

using Vec = __m256;
constexpr int kLanes = 8;
constexpr int kTileTokens = 2;
constexpr int kSumQueries = 2;
constexpr std::int64_t kDirectMaxTokens = 8;
constexpr std::int64_t kDirectMaxTokensF32 = 8;
constexpr std::int64_t kDirectMaxTokensF16 = 8;
constexpr int kPanelVecs = 2;
constexpr int kBroadcastTokens = 6;

inline Vec LoadFloats(const float* p) { return _mm256_loadu_ps(p); }
inline Vec Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline void Store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec Set1(float x) { return _mm256_set1_ps(x); }
inline Vec Zero() { return _mm256_setzero_ps(); }
inline Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec Mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec Sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float HalfScalar(std::uint16_t h) { return _cvtsh_ss(h); }
inline Vec LoadHalves(const std::uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline Vec LoadBf16s(const std::uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
inline Vec LoadInt8s(const std::uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline Vec LoadNibbles(const std::uint8_t* p, int shift) {
  const __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(bytes, _mm_cvtsi32_si128(shift)), _mm256_set1_epi32(0x0F)));
}
inline Vec LoadQ6_K(const std::uint8_t* low, int low_shift, const std::uint8_t* high, int high_shift) {
  const __m256i l = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(low)));
  const __m256i h = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(high)));
  const __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srl_epi32(l, _mm_cvtsi32_si128(low_shift)), _mm256_set1_epi32(0x0F)),
                                    _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(h, _mm_cvtsi32_si128(high_shift)), _mm256_set1_epi32(3)), 4));
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(32)));
}

// hadd of (0,1), (2,3), then of those: each 128-bit half holds the four half-sums; add the halves.
inline void Sum4(const Vec v[4], float out[4]) {
  const Vec h = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}

// Lane j of the result is the sum of v[j]'s 8 lanes: hadd of pairs, then of those (each 128-bit
// half holding four half-sums), then the halves of 0-3 and of 4-7 added.
inline Vec ReduceLanes(const Vec v[8]) {
  const Vec lo = _mm256_hadd_ps(_mm256_hadd_ps(v[0], v[1]), _mm256_hadd_ps(v[2], v[3]));
  const Vec hi = _mm256_hadd_ps(_mm256_hadd_ps(v[4], v[5]), _mm256_hadd_ps(v[6], v[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

#include "lib/runtime/cpu_gemm_kernel.inc"

}  // namespace
}  // namespace gemm_avx2
#pragma GCC pop_options
#endif  // CACE_X86_KERNELS

std::int64_t GemmRowsGranule([[maybe_unused]] CpuIsa isa, [[maybe_unused]] DType dtype, [[maybe_unused]] std::int64_t n_tokens) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512) return n_tokens <= gemm_avx512::DirectMaxTokens(dtype) ? kGemmRowGroup : kPanelRows;
  if (isa == CpuIsa::kAvx2) return n_tokens <= gemm_avx2::DirectMaxTokens(dtype) ? kGemmRowGroup : kPanelRows;
#endif
  return kGemmRowGroup;
}

// The widened panel, and the rows it packs at a time, widened before they are packed.
std::size_t GemmScratchFloats(const WeightMatrix& w) { return static_cast<std::size_t>((kPanelRows + kPackRows) * w.cols); }

void GemmRows([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y, std::int64_t ldy,
              std::int64_t row_begin, std::int64_t row_end, float* scratch) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512) return gemm_avx512::Rows(w, x, n_tokens, y, ldy, row_begin, row_end, scratch);
  if (isa == CpuIsa::kAvx2) return gemm_avx2::Rows(w, x, n_tokens, y, ldy, row_begin, row_end, scratch);
#endif
  BaselineRows(w, x, n_tokens, y, ldy, row_begin, row_end, scratch);
}

void DotProducts([[maybe_unused]] CpuIsa isa, const float* a, std::int64_t lda, std::int64_t n_a, const float* b, std::int64_t ldb,
                 std::int64_t n_b, int k, float* c, std::int64_t ldc) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512) return gemm_avx512::Dots(a, lda, n_a, b, ldb, n_b, k, c, ldc);
  if (isa == CpuIsa::kAvx2) return gemm_avx2::Dots(a, lda, n_a, b, ldb, n_b, k, c, ldc);
#endif
  for (std::int64_t i = 0; i < n_a; ++i) {
    for (std::int64_t j = 0; j < n_b; ++j) c[i * ldc + j] = kmath::DotF32(a + i * lda, b + j * ldb, k);
  }
}

void WeightedRowSums([[maybe_unused]] CpuIsa isa, const float* w, std::int64_t ldw, std::int64_t n_rows, std::int64_t n_p,
                     const float* v, std::int64_t ldv, int n, float* out, std::int64_t ldo, bool accumulate) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512) return gemm_avx512::WeightedSums(w, ldw, n_rows, n_p, v, ldv, n, out, ldo, accumulate);
  if (isa == CpuIsa::kAvx2) return gemm_avx2::WeightedSums(w, ldw, n_rows, n_p, v, ldv, n, out, ldo, accumulate);
#endif
  for (std::int64_t i = 0; i < n_rows; ++i) {
    float* o = out + i * ldo;
    if (!accumulate) {
      for (int d = 0; d < n; ++d) o[d] = 0.0f;
    }
    for (std::int64_t p = 0; p < n_p; ++p) {
      const float wp = w[i * ldw + p];
      for (int d = 0; d < n; ++d) o[d] += wp * v[p * ldv + d];
    }
  }
}

void WidenRow([[maybe_unused]] CpuIsa isa, const WeightMatrix& w, std::int64_t r, float* out) {
#if CACE_X86_KERNELS
  if (isa >= CpuIsa::kAvx512) return gemm_avx512::Widen(w, r, out);
  if (isa == CpuIsa::kAvx2) return gemm_avx2::Widen(w, r, out);
#endif
  DequantizeRow(w, r, out);
}

}  // namespace cace
