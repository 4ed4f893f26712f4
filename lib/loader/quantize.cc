#include "lib/loader/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fmt/format.h"
#include "lib/loader/quant_blocks.h"

namespace cace {
namespace {

void StoreU16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v & 0xFF);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

int RoundClamp(float x, int lo, int hi) { return std::clamp(static_cast<int>(std::lround(x)), lo, hi); }

void QuantizeQ8_0(const float* x, std::uint8_t* block) {
  float amax = 0;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  StoreU16(block, quant::FloatToHalf(d));
  for (int i = 0; i < 32; ++i) block[2 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(RoundClamp(x[i] * id, -127, 127)));
}

void QuantizeQ4_0(const float* x, std::uint8_t* block) {
  // The value of largest magnitude maps to -8, so d carries its sign (as llama.cpp does).
  float max = 0;
  for (int i = 0; i < 32; ++i) {
    if (std::fabs(x[i]) > std::fabs(max)) max = x[i];
  }
  const float d = max / -8.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  StoreU16(block, quant::FloatToHalf(d));
  for (int j = 0; j < 16; ++j) {
    const int lo = RoundClamp(x[j] * id + 8.0f, 0, 15);
    const int hi = RoundClamp(x[j + 16] * id + 8.0f, 0, 15);
    block[2 + j] = static_cast<std::uint8_t>(lo | (hi << 4));
  }
}

void QuantizeQ4_1(const float* x, std::uint8_t* block) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < 32; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float d = (hi - lo) / 15.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  StoreU16(block, quant::FloatToHalf(d));
  StoreU16(block + 2, quant::FloatToHalf(lo));
  for (int j = 0; j < 16; ++j) {
    const int a = RoundClamp((x[j] - lo) * id, 0, 15);
    const int b = RoundClamp((x[j + 16] - lo) * id, 0, 15);
    block[4 + j] = static_cast<std::uint8_t>(a | (b << 4));
  }
}

// Packs eight 6-bit scales and mins the way Q4KScaleMin unpacks them.
void PackQ4KScales(const int* sc, const int* mn, std::uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<std::uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<std::uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
}

void QuantizeQ4_K(const float* x, std::uint8_t* block) {
  // Per sub-block of 32: x ~ scale * q - min with q in 0..15; scale and min are then stored as
  // 6-bit multiples of the super-block's d and dmin.
  float scale[8], min[8], max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    float lo = x[32 * s], hi = x[32 * s];
    for (int l = 1; l < 32; ++l) {
      lo = std::min(lo, x[32 * s + l]);
      hi = std::max(hi, x[32 * s + l]);
    }
    lo = std::min(lo, 0.0f);
    scale[s] = (hi - lo) / 15.0f;
    min[s] = -lo;
    max_scale = std::max(max_scale, scale[s]);
    max_min = std::max(max_min, min[s]);
  }
  const float d = quant::HalfToFloat(quant::FloatToHalf(max_scale / 63.0f));
  const float dmin = quant::HalfToFloat(quant::FloatToHalf(max_min / 63.0f));
  int sc[8], mn[8];
  for (int s = 0; s < 8; ++s) {
    sc[s] = d != 0 ? RoundClamp(scale[s] / d, 0, 63) : 0;
    mn[s] = dmin != 0 ? RoundClamp(min[s] / dmin, 0, 63) : 0;
  }
  StoreU16(block, quant::FloatToHalf(d));
  StoreU16(block + 2, quant::FloatToHalf(dmin));
  PackQ4KScales(sc, mn, block + 4);
  std::uint8_t* q = block + 16;
  for (int pair = 0; pair < 4; ++pair) {
    for (int half = 0; half < 2; ++half) {
      const int s = 2 * pair + half;
      const float step = d * static_cast<float>(sc[s]);
      const float offset = dmin * static_cast<float>(mn[s]);
      for (int l = 0; l < 32; ++l) {
        const int v = step != 0 ? RoundClamp((x[32 * s + l] + offset) / step, 0, 15) : 0;
        if (half == 0) {
          q[32 * pair + l] = static_cast<std::uint8_t>(v);
        } else {
          q[32 * pair + l] = static_cast<std::uint8_t>(q[32 * pair + l] | (v << 4));
        }
      }
    }
  }
}

void QuantizeQ6_K(const float* x, std::uint8_t* block) {
  // Per sub-block of 16: x ~ d * sc * (q - 32), q in 0..63, sc an int8.
  float scale[16], max_abs_scale = 0;
  for (int s = 0; s < 16; ++s) {
    float amax = 0;
    for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * s + l]));
    scale[s] = amax / 31.0f;
    max_abs_scale = std::max(max_abs_scale, scale[s]);
  }
  const float d = quant::HalfToFloat(quant::FloatToHalf(max_abs_scale / 127.0f));
  std::uint8_t* ql = block;
  std::uint8_t* qh = block + 128;
  auto* sc = reinterpret_cast<std::int8_t*>(block + 192);
  for (int s = 0; s < 16; ++s) sc[s] = static_cast<std::int8_t>(d != 0 ? RoundClamp(scale[s] / d, -127, 127) : 0);
  int q[256];
  for (int i = 0; i < 256; ++i) {
    const float step = d * static_cast<float>(sc[i / 16]);
    q[i] = step != 0 ? RoundClamp(x[i] / step, -32, 31) + 32 : 32;
  }
  std::memset(block, 0, 192);
  for (int half = 0; half < 2; ++half) {
    const int* v = q + 128 * half;
    for (int l = 0; l < 32; ++l) {
      ql[64 * half + l] = static_cast<std::uint8_t>((v[l] & 15) | ((v[l + 64] & 15) << 4));
      ql[64 * half + l + 32] = static_cast<std::uint8_t>((v[l + 32] & 15) | ((v[l + 96] & 15) << 4));
      qh[32 * half + l] = static_cast<std::uint8_t>((v[l] >> 4) | ((v[l + 32] >> 4) << 2) | ((v[l + 64] >> 4) << 4) |
                                                    ((v[l + 96] >> 4) << 6));
    }
  }
  StoreU16(block + 208, quant::FloatToHalf(d));
}

}  // namespace

absl::StatusOr<std::vector<std::byte>> QuantizeFromF32(DType dtype, std::span<const float> values) {
  const auto block_values = static_cast<std::size_t>(DTypeBlockElements(dtype));
  const auto block_bytes = static_cast<std::size_t>(DTypeBlockBytes(dtype));
  if (values.size() % block_values != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{} values are not whole {} blocks of {}", values.size(), DTypeName(dtype), block_values));
  }
  std::vector<std::byte> out(values.size() / block_values * block_bytes);
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data());
  const float* src = values.data();
  const std::size_t blocks = values.size() / block_values;
  switch (dtype) {
    case DType::kF32: std::memcpy(dst, src, out.size()); break;
    case DType::kF16:
      for (std::size_t i = 0; i < values.size(); ++i) StoreU16(dst + 2 * i, quant::FloatToHalf(src[i]));
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < values.size(); ++i) StoreU16(dst + 2 * i, quant::FloatToBf16(src[i]));
      break;
    case DType::kQ8_0: for (std::size_t b = 0; b < blocks; ++b) QuantizeQ8_0(src + 32 * b, dst + block_bytes * b); break;
    case DType::kQ4_0: for (std::size_t b = 0; b < blocks; ++b) QuantizeQ4_0(src + 32 * b, dst + block_bytes * b); break;
    case DType::kQ4_1: for (std::size_t b = 0; b < blocks; ++b) QuantizeQ4_1(src + 32 * b, dst + block_bytes * b); break;
    case DType::kQ4_K: for (std::size_t b = 0; b < blocks; ++b) QuantizeQ4_K(src + 256 * b, dst + block_bytes * b); break;
    case DType::kQ6_K: for (std::size_t b = 0; b < blocks; ++b) QuantizeQ6_K(src + 256 * b, dst + block_bytes * b); break;
    default:
      return absl::InvalidArgumentError(fmt::format("quantizing to {} is not supported", DTypeName(dtype)));
  }
  return out;
}

}  // namespace cace
