// Block layouts of ggml's quantized types and their dequantization to f32, as inline functions
// usable from host code and CUDA kernels alike (no Abseil, no standard library beyond <cstdint>
// and <cstring>). Layouts (from the GGUF / ggml specification; all multi-byte fields little
// endian, f16 = IEEE half):
//   Q8_0  34 bytes / 32 values:  f16 d | int8 q[32]                 x = d * q
//   Q4_0  18 bytes / 32 values:  f16 d | u8 qs[16]                  x[j] = d * ((qs[j] & 15) - 8),
//                                                                   x[j+16] = d * ((qs[j] >> 4) - 8)
//   Q4_1  20 bytes / 32 values:  f16 d | f16 m | u8 qs[16]          x = d * nibble + m (same order)
//   Q4_K 144 bytes / 256 values: f16 d | f16 dmin | u8 scales[12] | u8 qs[128]
//                                8 sub-blocks of 32 with 6-bit scale and min packed in scales[]
//   Q6_K 210 bytes / 256 values: u8 ql[128] | u8 qh[64] | int8 scales[16] | f16 d
//                                16 sub-blocks of 16, 6-bit values (4 low bits in ql, 2 in qh) - 32
#ifndef CACE_LIB_LOADER_QUANT_BLOCKS_H_
#define CACE_LIB_LOADER_QUANT_BLOCKS_H_

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define CACE_HD __host__ __device__
#else
#define CACE_HD
#endif

namespace cace::quant {

inline constexpr int kQ8_0BlockValues = 32;
inline constexpr int kQ8_0BlockBytes = 34;
inline constexpr int kQ4_0BlockValues = 32;
inline constexpr int kQ4_0BlockBytes = 18;
inline constexpr int kQ4_1BlockValues = 32;
inline constexpr int kQ4_1BlockBytes = 20;
inline constexpr int kQKValues = 256;  // values per K-quant super-block
inline constexpr int kQ4_KBlockBytes = 144;
inline constexpr int kQ6_KBlockBytes = 210;

CACE_HD inline float BitsToFloat(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

CACE_HD inline std::uint32_t FloatToBits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// IEEE half to float, exact for every input (normals, subnormals, infinities, NaN).
CACE_HD inline float HalfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) return BitsToFloat(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) return BitsToFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return BitsToFloat(sign);
  // Subnormal half: value = mantissa * 2^-24, normalised into a float.
  std::uint32_t e = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --e;
  }
  return BitsToFloat(sign | (e << 23) | ((mantissa & 0x3FFu) << 13));
}

// Float to IEEE half, rounding to nearest even; overflow gives infinity, NaN stays NaN.
CACE_HD inline std::uint16_t FloatToHalf(float f) {
  const std::uint32_t bits = FloatToBits(f);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u);
  if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds to inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero): shift the implicit-one mantissa into place and round.
    if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126u - exponent;  // 14..24
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rest = abs & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

CACE_HD inline float Bf16ToFloat(std::uint16_t b) { return BitsToFloat(static_cast<std::uint32_t>(b) << 16); }

// Float to bfloat16, rounding to nearest even; NaN stays NaN.
CACE_HD inline std::uint16_t FloatToBf16(float f) {
  const std::uint32_t bits = FloatToBits(f);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

CACE_HD inline std::uint16_t LoadU16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

CACE_HD inline void DequantizeQ8_0(const std::uint8_t* block, float* out) {
  const float d = HalfToFloat(LoadU16(block));
  for (int i = 0; i < kQ8_0BlockValues; ++i) {
    out[i] = d * static_cast<float>(static_cast<std::int8_t>(block[2 + i]));
  }
}

CACE_HD inline void DequantizeQ4_0(const std::uint8_t* block, float* out) {
  const float d = HalfToFloat(LoadU16(block));
  const std::uint8_t* qs = block + 2;
  for (int j = 0; j < 16; ++j) {
    out[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
    out[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
  }
}

CACE_HD inline void DequantizeQ4_1(const std::uint8_t* block, float* out) {
  const float d = HalfToFloat(LoadU16(block));
  const float m = HalfToFloat(LoadU16(block + 2));
  const std::uint8_t* qs = block + 4;
  for (int j = 0; j < 16; ++j) {
    out[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    out[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K super-block: sub-blocks 0-3 keep them in
// the low 6 bits of bytes j and j+4; sub-blocks 4-7 split them into a low nibble in byte j+4 and
// two high bits in the top of bytes j-4 (scale) and j (min).
CACE_HD inline void Q4KScaleMin(int j, const std::uint8_t* scales, int* scale, int* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = (scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4);
    *min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// The multipliers of a Q4_K block's eight sub-blocks of 32 as floats: value l of sub-block s is
// scale[s] * q - min[s]. One owner of that arithmetic, so that the vector kernels that widen Q4_K
// rows (lib/runtime/cpu_gemm_kernel.inc) give exactly DequantizeQ4_K's values.
CACE_HD inline void Q4KSubBlockScales(const std::uint8_t* block, float* scale, float* min) {
  const float d = HalfToFloat(LoadU16(block));
  const float dmin = HalfToFloat(LoadU16(block + 2));
  for (int s = 0; s < kQKValues / 32; ++s) {
    int sc, m;
    Q4KScaleMin(s, block + 4, &sc, &m);
    scale[s] = d * static_cast<float>(sc);
    min[s] = dmin * static_cast<float>(m);
  }
}

CACE_HD inline void DequantizeQ4_K(const std::uint8_t* block, float* out) {
  float scale[kQKValues / 32], min[kQKValues / 32];
  Q4KSubBlockScales(block, scale, min);
  // Each 32 bytes of q hold two sub-blocks: low nibbles (sub-block 2p) then high (2p + 1).
  const std::uint8_t* q = block + 16;
  for (int pair = 0; pair < 4; ++pair) {
    for (int l = 0; l < 32; ++l) {
      out[64 * pair + l] = scale[2 * pair] * static_cast<float>(q[l] & 0x0F) - min[2 * pair];
      out[64 * pair + 32 + l] = scale[2 * pair + 1] * static_cast<float>(q[l] >> 4) - min[2 * pair + 1];
    }
    q += 32;
  }
}

CACE_HD inline void DequantizeQ6_K(const std::uint8_t* block, float* out) {
  const std::uint8_t* ql = block;
  const std::uint8_t* qh = block + 128;
  const std::int8_t* sc = reinterpret_cast<const std::int8_t*>(block + 192);
  const float d = HalfToFloat(LoadU16(block + 208));
  // Two halves of 128 values; in each, value l + 32k takes 4 low bits from ql and 2 high bits
  // from bits 2k..2k+1 of qh[l], and sub-block scale sc[l / 16 + 2k].
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      out[l] = d * static_cast<float>(sc[is] * q1);
      out[l + 32] = d * static_cast<float>(sc[is + 2] * q2);
      out[l + 64] = d * static_cast<float>(sc[is + 4] * q3);
      out[l + 96] = d * static_cast<float>(sc[is + 6] * q4);
    }
    out += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace cace::quant

#endif  // CACE_LIB_LOADER_QUANT_BLOCKS_H_
