#include "lib/loader/dtype.h"

#include <array>

#include "fmt/format.h"

namespace cace {
namespace {

struct DTypeFacts {
  DType dtype;
  std::string_view name;
  std::int64_t block_elements;
  std::int64_t block_bytes;
  std::optional<std::uint32_t> ggml_type;
};

constexpr std::array<DTypeFacts, 15> kFacts = {{
    {DType::kF32, "F32", 1, 4, 0},
    {DType::kF16, "F16", 1, 2, 1},
    {DType::kBF16, "BF16", 1, 2, 30},
    {DType::kF64, "F64", 1, 8, 28},
    {DType::kI8, "I8", 1, 1, 24},
    {DType::kI16, "I16", 1, 2, 25},
    {DType::kI32, "I32", 1, 4, 26},
    {DType::kI64, "I64", 1, 8, 27},
    {DType::kU8, "U8", 1, 1, std::nullopt},
    {DType::kBool, "BOOL", 1, 1, std::nullopt},
    {DType::kQ8_0, "Q8_0", 32, 34, 8},
    {DType::kQ4_0, "Q4_0", 32, 18, 2},
    {DType::kQ4_1, "Q4_1", 32, 20, 3},
    {DType::kQ4_K, "Q4_K", 256, 144, 12},
    {DType::kQ6_K, "Q6_K", 256, 210, 14},
}};

const DTypeFacts& FactsOf(DType dtype) { return kFacts[static_cast<std::size_t>(dtype)]; }

}  // namespace

std::string_view DTypeName(DType dtype) { return FactsOf(dtype).name; }
std::int64_t DTypeBlockElements(DType dtype) { return FactsOf(dtype).block_elements; }
std::int64_t DTypeBlockBytes(DType dtype) { return FactsOf(dtype).block_bytes; }
bool DTypeIsQuantized(DType dtype) { return FactsOf(dtype).block_elements > 1; }

std::optional<DType> DTypeFromSafetensorsName(std::string_view name) {
  for (const DTypeFacts& f : kFacts) {
    if (!DTypeIsQuantized(f.dtype) && f.name == name) return f.dtype;
  }
  return std::nullopt;
}

std::optional<DType> DTypeFromGgmlType(std::uint32_t ggml_type) {
  for (const DTypeFacts& f : kFacts) {
    if (f.ggml_type == ggml_type) return f.dtype;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> GgmlTypeOf(DType dtype) { return FactsOf(dtype).ggml_type; }

absl::StatusOr<std::uint64_t> ElementCount(std::span<const std::int64_t> shape) {
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      return absl::InvalidArgumentError(fmt::format("dimension {} is negative ({})", i, shape[i]));
    }
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(shape[i]), &count)) {
      return absl::InvalidArgumentError(fmt::format("element count overflows 64 bits at dimension {}", i));
    }
  }
  return count;
}

absl::StatusOr<std::uint64_t> TensorBytes(DType dtype, std::span<const std::int64_t> shape) {
  absl::StatusOr<std::uint64_t> count = ElementCount(shape);
  if (!count.ok()) return count.status();
  const DTypeFacts& f = FactsOf(dtype);
  const auto block = static_cast<std::uint64_t>(f.block_elements);
  if (block > 1) {
    const std::int64_t inner = shape.empty() ? 1 : shape.back();
    if (inner % f.block_elements != 0) {
      return absl::InvalidArgumentError(fmt::format("innermost dimension {} is not a multiple of the {} block size {}",
                                                     inner, f.name, f.block_elements));
    }
  }
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(*count / block, static_cast<std::uint64_t>(f.block_bytes), &bytes)) {
    return absl::InvalidArgumentError("tensor byte size overflows 64 bits");
  }
  return bytes;
}

}  // namespace cace
