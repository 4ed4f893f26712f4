#include "lib/loader/dequantize.h"

#include <cstring>

#include "fmt/format.h"
#include "lib/loader/quant_blocks.h"

namespace cace {
namespace {

template <typename T>
void ConvertPlain(const std::byte* src, std::span<float> dst) {
  for (std::size_t i = 0; i < dst.size(); ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

template <void (*Block)(const std::uint8_t*, float*)>
void ConvertBlocks(const std::byte* src, std::span<float> dst, std::size_t values, std::size_t bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(src);
  for (std::size_t b = 0; b < dst.size() / values; ++b) Block(p + b * bytes, dst.data() + b * values);
}

}  // namespace

absl::Status DequantizeToF32(DType dtype, std::span<const std::byte> src, std::span<float> dst) {
  const auto block_values = static_cast<std::size_t>(DTypeBlockElements(dtype));
  const auto block_bytes = static_cast<std::size_t>(DTypeBlockBytes(dtype));
  if (dst.size() % block_values != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{} elements are not whole {} blocks of {}", dst.size(), DTypeName(dtype), block_values));
  }
  if (src.size() != dst.size() / block_values * block_bytes) {
    return absl::InvalidArgumentError(fmt::format("{} bytes of {} do not hold {} elements", src.size(),
                                                  DTypeName(dtype), dst.size()));
  }
  const std::byte* s = src.data();
  switch (dtype) {
    case DType::kF32: ConvertPlain<float>(s, dst); break;
    case DType::kF64: ConvertPlain<double>(s, dst); break;
    case DType::kI8: ConvertPlain<std::int8_t>(s, dst); break;
    case DType::kI16: ConvertPlain<std::int16_t>(s, dst); break;
    case DType::kI32: ConvertPlain<std::int32_t>(s, dst); break;
    case DType::kI64: ConvertPlain<std::int64_t>(s, dst); break;
    case DType::kU8: case DType::kBool: ConvertPlain<std::uint8_t>(s, dst); break;
    case DType::kF16:
      for (std::size_t i = 0; i < dst.size(); ++i) {
        dst[i] = quant::HalfToFloat(quant::LoadU16(reinterpret_cast<const std::uint8_t*>(s) + 2 * i));
      }
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < dst.size(); ++i) {
        dst[i] = quant::Bf16ToFloat(quant::LoadU16(reinterpret_cast<const std::uint8_t*>(s) + 2 * i));
      }
      break;
    case DType::kQ8_0: ConvertBlocks<quant::DequantizeQ8_0>(s, dst, block_values, block_bytes); break;
    case DType::kQ4_0: ConvertBlocks<quant::DequantizeQ4_0>(s, dst, block_values, block_bytes); break;
    case DType::kQ4_1: ConvertBlocks<quant::DequantizeQ4_1>(s, dst, block_values, block_bytes); break;
    case DType::kQ4_K: ConvertBlocks<quant::DequantizeQ4_K>(s, dst, block_values, block_bytes); break;
    case DType::kQ6_K: ConvertBlocks<quant::DequantizeQ6_K>(s, dst, block_values, block_bytes); break;
  }
  return absl::OkStatus();
}

}  // namespace cace
