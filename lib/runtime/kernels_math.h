// The arithmetic of every transformer kernel, one row or one pair at a time, shared by the CPU
// backend and the CUDA kernels (nvcc includes this header: it uses only <cstdint> and builtins, no
// Abseil, no std containers). Everything computes in F32; weights stored as F16, BF16, Q8_0 or Q4_K
// are widened inside the dot product.
#ifndef CACE_LIB_RUNTIME_KERNELS_MATH_H_
#define CACE_LIB_RUNTIME_KERNELS_MATH_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "lib/loader/quant_blocks.h"  // block layouts of the quantized types, and CACE_HD

namespace cace::kmath {

using quant::Bf16ToFloat;
using quant::HalfToFloat;
using quant::LoadU16;

// ---- dot products of one weight row segment with F32 activations --------------------------------
// The CPU build compiles cace_runtime with -fopenmp-simd and CACE_OMP_SIMD, so these reductions
// become vector code (the pragma lets the compiler reorder the sum); elsewhere they are plain loops.
#define CACE_PRAGMA(x) _Pragma(#x)
#if defined(CACE_OMP_SIMD) && !defined(__CUDACC__)
#define CACE_SIMD_REDUCE(...) CACE_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#else
#define CACE_SIMD_REDUCE(...)
#endif

CACE_HD inline float DotF32(const float* w, const float* x, int n) {
  float sum = 0.0f;
  CACE_SIMD_REDUCE(sum)
  for (int i = 0; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

CACE_HD inline float DotF16(const std::uint16_t* w, const float* x, int n) {
  float sum = 0.0f;
  CACE_SIMD_REDUCE(sum)
  for (int i = 0; i < n; ++i) sum += HalfToFloat(w[i]) * x[i];
  return sum;
}

CACE_HD inline float DotBf16(const std::uint16_t* w, const float* x, int n) {
  float sum = 0.0f;
  CACE_SIMD_REDUCE(sum)
  for (int i = 0; i < n; ++i) sum += Bf16ToFloat(w[i]) * x[i];
  return sum;
}

// One Q8_0 block (34 bytes) with 32 activations.
CACE_HD inline float DotQ8_0Block(const std::uint8_t* block, const float* x) {
  const float d = HalfToFloat(LoadU16(block));
  const std::int8_t* q = reinterpret_cast<const std::int8_t*>(block + 2);
  float sum = 0.0f;
  CACE_SIMD_REDUCE(sum)
  for (int i = 0; i < quant::kQ8_0BlockValues; ++i) sum += static_cast<float>(q[i]) * x[i];
  return d * sum;
}

// A row of n_blocks Q8_0 blocks with n_blocks * 32 activations.
CACE_HD inline float DotQ8_0Row(const std::uint8_t* row, const float* x, int n_blocks) {
  float sum = 0.0f;
  for (int b = 0; b < n_blocks; ++b) {
    sum += DotQ8_0Block(row + b * quant::kQ8_0BlockBytes, x + b * quant::kQ8_0BlockValues);
  }
  return sum;
}

// ---- Q8_0 weights times activations quantized to int8 (how llama.cpp multiplies Q8_0) -----------
// The activations of a token are quantized once per product in blocks of 32 as GGUF's Q8_0 does
// (d = max|x| / 127, q = round(x / d)), int8 values and F32 scales kept apart so that the vector
// kernels load the values of consecutive blocks at once. A weight block times an activation block
// is then an exact integer sum times the two scales.

// Rounds to the nearest integer, ties to even, for |v| < 2^22: adding and subtracting 1.5 * 2^23
// (as ExpPoly does; rintf or roundf would keep the loop scalar).
CACE_HD inline float RoundToInt(float v) { return (v + 12582912.0f) - 12582912.0f; }

// Quantizes 32 activations into q; returns their scale d (0 for a block of zeros).
CACE_HD inline float QuantizeQ8_0Block(const float* x, std::int8_t* q) {
  float amax = 0.0f;
  for (int i = 0; i < quant::kQ8_0BlockValues; ++i) {
    const float a = fabsf(x[i]);
    amax = a > amax ? a : amax;
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
#if defined(CACE_OMP_SIMD) && !defined(__CUDACC__)
  CACE_PRAGMA(omp simd)
#endif
  for (int i = 0; i < quant::kQ8_0BlockValues; ++i) q[i] = static_cast<std::int8_t>(RoundToInt(x[i] * id));
  return d;
}

// The 32 activations as the int8 products see them: q * d (for products in F32 of the same values).
CACE_HD inline void RoundToQ8_0Block(const float* x, float* out) {
  std::int8_t q[quant::kQ8_0BlockValues];
  const float d = QuantizeQ8_0Block(x, q);
  for (int i = 0; i < quant::kQ8_0BlockValues; ++i) out[i] = static_cast<float>(q[i]) * d;
}

// Sum of q_w[i] * q_x[i] over one block (exact: at most 32 x 127 x 128 in magnitude).
CACE_HD inline std::int32_t DotInt8Block(const std::int8_t* qw, const std::int8_t* qx) {
  std::int32_t sum = 0;
  CACE_SIMD_REDUCE(sum)
  for (int i = 0; i < quant::kQ8_0BlockValues; ++i) sum += static_cast<std::int32_t>(qw[i]) * qx[i];
  return sum;
}

// One Q8_0 weight block (34 bytes) with one quantized activation block (32 values, scale dx).
CACE_HD inline float DotQ8_0Int8Block(const std::uint8_t* block, const std::int8_t* qx, float dx) {
  const float dw = HalfToFloat(LoadU16(block));
  return dw * dx * static_cast<float>(DotInt8Block(reinterpret_cast<const std::int8_t*>(block + 2), qx));
}

// A row of n_blocks Q8_0 blocks with n_blocks quantized activation blocks (values qx, scales dx).
CACE_HD inline float DotQ8_0Int8Row(const std::uint8_t* row, const std::int8_t* qx, const float* dx, int n_blocks) {
  float sum = 0.0f;
  for (int b = 0; b < n_blocks; ++b) {
    sum += DotQ8_0Int8Block(row + b * quant::kQ8_0BlockBytes, qx + b * quant::kQ8_0BlockValues, dx[b]);
  }
  return sum;
}

// One Q4_K block (144 bytes) with its 256 activations quantized as eight Q8_0 blocks, one a
// sub-block (values q, scales dx, and each block's sum of q): sub-block s contributes
// dx[s] * (scale[s] * sum(nibble * q) - min[s] * q_sums[s]), the integer sums exact.
CACE_HD inline float DotQ4_KInt8Block(const std::uint8_t* block, const std::int8_t* q, const float* dx,
                                      const std::int32_t* q_sums) {
  float scale[quant::kQKValues / 32], min[quant::kQKValues / 32];
  quant::Q4KSubBlockScales(block, scale, min);
  float sum = 0.0f;
  for (int s = 0; s < quant::kQKValues / 32; ++s) {
    const std::uint8_t* bytes = block + 16 + 32 * (s / 2);  // sub-block 2p low nibbles, 2p + 1 high
    const int shift = 4 * (s % 2);
    std::int32_t dot = 0;
    for (int l = 0; l < 32; ++l) dot += ((bytes[l] >> shift) & 0x0F) * q[32 * s + l];
    sum += dx[s] * (scale[s] * static_cast<float>(dot) - min[s] * static_cast<float>(q_sums[s]));
  }
  return sum;
}

// One Q6_K block (210 bytes) with its 256 activations quantized as eight Q8_0 blocks (values q,
// scales dx): sub-block s of 16 contributes d * sc[s] * dx[s / 2] * sum((w - 32) * q), the
// integer sum exact (w the 6-bit value, as DequantizeQ6_K assembles it).
CACE_HD inline float DotQ6_KInt8Block(const std::uint8_t* block, const std::int8_t* q, const float* dx) {
  const std::int8_t* sc = reinterpret_cast<const std::int8_t*>(block + 192);
  const float d = HalfToFloat(LoadU16(block + 208));
  float sum = 0.0f;
  for (int s = 0; s < 16; ++s) {
    const int half = s / 8, k = (s % 8) / 2;  // value 128 half + 32 k + l, l in [16 (s % 2), +16)
    const std::uint8_t* ql = block + 64 * half + 32 * (k % 2);
    const std::uint8_t* qh = block + 128 + 32 * half;
    std::int32_t dot = 0;
    for (int l = 16 * (s % 2); l < 16 * (s % 2) + 16; ++l) {
      const int w = (((ql[l] >> (4 * (k / 2))) & 0x0F) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
      dot += w * q[128 * half + 32 * k + l];
    }
    sum += d * static_cast<float>(sc[s]) * dx[s / 2] * static_cast<float>(dot);
  }
  return sum;
}

// One Q4_K block (144 bytes) with 256 activations. Each 64-weight chunk uses 32 bytes of q: the
// low nibbles are sub-block 2c, the high nibbles sub-block 2c+1.
CACE_HD inline float DotQ4_KBlock(const std::uint8_t* block, const float* x) {
  const float d = HalfToFloat(LoadU16(block));
  const float dmin = HalfToFloat(LoadU16(block + 2));
  const std::uint8_t* packed = block + 4;
  const std::uint8_t* q = block + 16;
  float sum = 0.0f;
  for (int chunk = 0; chunk < 4; ++chunk) {
    int sc_lo, m_lo, sc_hi, m_hi;
    quant::Q4KScaleMin(2 * chunk, packed, &sc_lo, &m_lo);
    quant::Q4KScaleMin(2 * chunk + 1, packed, &sc_hi, &m_hi);
    const float* x_lo = x + chunk * 64;
    const float* x_hi = x_lo + 32;
    float qx_lo = 0, qx_hi = 0, sx_lo = 0, sx_hi = 0;
    CACE_SIMD_REDUCE(qx_lo, qx_hi, sx_lo, sx_hi)
    for (int i = 0; i < 32; ++i) {
      const std::uint8_t byte = q[chunk * 32 + i];
      qx_lo += static_cast<float>(byte & 0x0F) * x_lo[i];
      qx_hi += static_cast<float>(byte >> 4) * x_hi[i];
      sx_lo += x_lo[i];
      sx_hi += x_hi[i];
    }
    sum += d * (static_cast<float>(sc_lo) * qx_lo + static_cast<float>(sc_hi) * qx_hi) -
           dmin * (static_cast<float>(m_lo) * sx_lo + static_cast<float>(m_hi) * sx_hi);
  }
  return sum;
}

// ---- RMSNorm --------------------------------------------------------------------------------------

// 1 / sqrt(mean(x^2) + eps) from the sum of squares of a row of n values (the GPU reduces the sum
// across threads, the CPU in one loop).
CACE_HD inline float RmsInvFromSumSquares(float sum_squares, int n, float eps) {
  return 1.0f / sqrtf(sum_squares / static_cast<float>(n) + eps);
}

CACE_HD inline float RmsInvScale(const float* x, int n, float eps) {
  float ss = 0.0f;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  return RmsInvFromSumSquares(ss, n, eps);
}

// One normalised element: x * inv_scale * weight.
CACE_HD inline float RmsNormElement(float x, float weight, float inv_scale) { return x * inv_scale * weight; }

// out[i] = x[i] * inv_scale * weight[i]; out may alias x.
CACE_HD inline void RmsNormApply(const float* x, const float* weight, float inv_scale, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = RmsNormElement(x[i], weight[i], inv_scale);
}

CACE_HD inline void RmsNormRow(const float* x, const float* weight, int n, float eps, float* out) {
  RmsNormApply(x, weight, RmsInvScale(x, n, eps), n, out);
}

// ---- rotary position embedding -----------------------------------------------------------------

// The angle of pair i (0 <= i < rot_dim/2) at position pos: pos * theta^(-2i/rot_dim), in F32 as
// Hugging Face computes it (inv_freq in F32, then position times inv_freq), so that the angles agree.
CACE_HD inline float RopeAngle(int pos, int pair, int rot_dim, float theta) {
  const float inv_freq =
      1.0f / powf(theta, static_cast<float>(2 * pair) / static_cast<float>(rot_dim));
  return static_cast<float>(pos) * inv_freq;
}

// Rotates the pair (a, b) by angle: (a cos - b sin, a sin + b cos).
CACE_HD inline void RopeRotatePair(float* a, float* b, float cos_v, float sin_v) {
  const float x0 = *a;
  const float x1 = *b;
  *a = x0 * cos_v - x1 * sin_v;
  *b = x0 * sin_v + x1 * cos_v;
}

// Which elements of a head form pair i: Hugging Face checkpoints pair i with i + head_dim/2
// ("rotate half", GGUF's NEOX order); llama.cpp's Llama GGUFs permute q and k so pairs are adjacent.
enum class RopeStyle : int { kHalf = 0, kInterleaved = 1 };

CACE_HD inline void RopePairIndex(RopeStyle style, int pair, int head_dim, int* first, int* second) {
  if (style == RopeStyle::kHalf) {
    *first = pair;
    *second = pair + head_dim / 2;
  } else {
    *first = 2 * pair;
    *second = 2 * pair + 1;
  }
}

// cos and sin of every pair's angle at position pos (head_dim / 2 of each): shared by all heads.
CACE_HD inline void RopeTable(int pos, int head_dim, float theta, float* cos_out, float* sin_out) {
  for (int p = 0; p < head_dim / 2; ++p) {
    const float angle = RopeAngle(pos, p, head_dim, theta);
    cos_out[p] = cosf(angle);
    sin_out[p] = sinf(angle);
  }
}

// Rotates one head vector of head_dim values by a table from RopeTable.
CACE_HD inline void RopeHead(float* head, int head_dim, const float* cos_v, const float* sin_v, RopeStyle style) {
  for (int p = 0; p < head_dim / 2; ++p) {
    int i0, i1;
    RopePairIndex(style, p, head_dim, &i0, &i1);
    RopeRotatePair(&head[i0], &head[i1], cos_v[p], sin_v[p]);
  }
}

// ---- softmax pieces (attention is computed as an online softmax over key positions) --------------

// Running state of a softmax-weighted sum: the largest score seen, and the sum of exp(score - max).
struct SoftmaxState {
  float max;
  float sum;
};

CACE_HD inline SoftmaxState SoftmaxInit() { return SoftmaxState{-INFINITY, 0.0f}; }

// Adds one score; returns the factor by which the accumulated weighted values must be rescaled, and
// writes the weight of the new element to *weight.
CACE_HD inline float SoftmaxPush(SoftmaxState* s, float score, float* weight) {
  const float new_max = score > s->max ? score : s->max;
  const float rescale = expf(s->max - new_max);
  *weight = expf(score - new_max);
  s->sum = s->sum * rescale + *weight;
  s->max = new_max;
  return rescale;
}

// acc[i] = acc[i] * rescale + weight * v[i]: folds one value row into a softmax-weighted sum.
CACE_HD inline void AttendAccumulate(float* acc, const float* v, int n, float rescale, float weight) {
  for (int i = 0; i < n; ++i) acc[i] = acc[i] * rescale + weight * v[i];
}

// Divides the weighted sum by the softmax denominator.
CACE_HD inline void AttendFinish(float* acc, int n, const SoftmaxState& s) {
  const float inv = 1.0f / s.sum;
  for (int i = 0; i < n; ++i) acc[i] *= inv;
}

// e^x in plain F32 arithmetic (no libm call, no branch), so that a loop over a row vectorises:
// e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln 2 / 2 (+ 1 ulp; ln 2 split in two for an
// exact r), e^r by Cephes' degree-6 polynomial; relative error below 3e-7 for x in [-87, 88].
// Beyond, n and r are clamped (to 2^-126..2^127 and |r| <= 0.35): a tiny or a huge finite value,
// never a NaN. The clamps act on n and r, not on x: clamping x would make the result a constant
// on one path, and GCC would then branch instead of vectorising.
CACE_HD inline float ExpPoly(float x) {
  // Round to nearest by adding and subtracting 1.5 * 2^23 (floorf would keep the loop scalar).
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  n = n > -126.0f ? n : -126.0f;
  n = n < 127.0f ? n : 127.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  r = r > -0.35f ? r : -0.35f;
  r = r < 0.35f ? r : 0.35f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const std::int32_t exponent = (static_cast<std::int32_t>(n) + 127) << 23;
#if defined(__CUDA_ARCH__)
  return p * __int_as_float(exponent);
#else
  return p * __builtin_bit_cast(float, exponent);  // memcpy would keep the loop scalar
#endif
}

// In-place softmax of one row (for logits and tests).
CACE_HD inline void SoftmaxRow(float* x, int n) {
  float m = -INFINITY;
  for (int i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = expf(x[i] - m);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

// ---- SwiGLU and residual -----------------------------------------------------------------------

// ExpPoly rather than expf: the CPU loop below vectorises, and the GPU computes the same values.
CACE_HD inline float Silu(float x) { return x / (1.0f + ExpPoly(-x)); }

// gate[i] = silu(gate[i]) * up[i]
CACE_HD inline void SiluMulRow(float* gate, const float* up, int n) {
#if defined(CACE_OMP_SIMD) && !defined(__CUDACC__)
  CACE_PRAGMA(omp simd)
#endif
  for (int i = 0; i < n; ++i) gate[i] = Silu(gate[i]) * up[i];
}

// x[i] += delta[i]
CACE_HD inline void AddRow(float* x, const float* delta, int n) {
  for (int i = 0; i < n; ++i) x[i] += delta[i];
}

}  // namespace cace::kmath

#endif  // CACE_LIB_RUNTIME_KERNELS_MATH_H_
