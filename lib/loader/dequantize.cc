#include "lib/loader/dequantize.h"

#include <cstring>
#include <vector>

#include "fmt/format.h"
#include "lib/loader/quant_blocks.h"
#include "lib/loader/quantize.h"

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

absl::Status ConvertTensor(DType from, std::span<const std::byte> src, DType to, std::span<std::byte> dst,
                           std::uint64_t count) {
  if (from == to) {
    if (src.size() != dst.size()) {
      return absl::InvalidArgumentError(fmt::format("{} bytes of {} do not fit {} bytes", src.size(), DTypeName(from),
                                                    dst.size()));
    }
    std::memcpy(dst.data(), src.data(), src.size());
    return absl::OkStatus();
  }
  if (to != DType::kF32 && to != DType::kF16 && to != DType::kBF16) {
    return absl::InvalidArgumentError(fmt::format("cannot convert {} to {}: only to F32, F16 or BF16", DTypeName(from),
                                                  DTypeName(to)));
  }
  const std::size_t out_bytes = static_cast<std::size_t>(count) * (to == DType::kF32 ? 4 : 2);
  if (dst.size() != out_bytes) {
    return absl::InvalidArgumentError(fmt::format("{} elements of {} need {} bytes, not {}", count, DTypeName(to),
                                                  out_bytes, dst.size()));
  }
  if (to == DType::kF32) {
    return DequantizeToF32(from, src, std::span<float>(reinterpret_cast<float*>(dst.data()), count));
  }
  std::vector<float> wide(static_cast<std::size_t>(count));
  if (absl::Status s = DequantizeToF32(from, src, wide); !s.ok()) return s;
  absl::StatusOr<std::vector<std::byte>> narrow = QuantizeFromF32(to, wide);
  if (!narrow.ok()) return narrow.status();
  std::memcpy(dst.data(), narrow->data(), narrow->size());
  return absl::OkStatus();
}

}  // namespace cace
