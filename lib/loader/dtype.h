// Element types of tensors in the files cace loads (safetensors and GGUF), with their storage
// sizes. Quantized types store blocks of elements along the innermost (last) dimension.
#ifndef CACE_LIB_LOADER_DTYPE_H_
#define CACE_LIB_LOADER_DTYPE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace cace {

enum class DType : std::uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kI16,
  kI32,
  kI64,
  kU8,
  kBool,
  kQ8_0,  // blocks of 32: f16 scale, 32 x int8
  kQ4_0,  // blocks of 32: f16 scale, 16 bytes of 4-bit values (offset 8)
  kQ4_1,  // blocks of 32: f16 scale, f16 min, 16 bytes of 4-bit values
  kQ4_K,  // super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
  kQ6_K,  // super-blocks of 256: 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, f16 d
};

// "F32", "Q4_K", ...: the spelling of safetensors for plain types and of ggml for quantized ones.
std::string_view DTypeName(DType dtype);

// Elements per block (1 for plain types) and bytes per block.
std::int64_t DTypeBlockElements(DType dtype);
std::int64_t DTypeBlockBytes(DType dtype);
bool DTypeIsQuantized(DType dtype);

// safetensors dtype strings ("F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8",
// "BOOL"); nullopt for anything else.
std::optional<DType> DTypeFromSafetensorsName(std::string_view name);

// ggml type ids as written in GGUF tensor infos (F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 8,
// Q4_K = 12, Q6_K = 14, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30); nullopt for
// types cace does not load.
std::optional<DType> DTypeFromGgmlType(std::uint32_t ggml_type);
// The inverse; nullopt for U8 and BOOL, which ggml has no id for.
std::optional<std::uint32_t> GgmlTypeOf(DType dtype);

// Bytes a tensor of this type and shape occupies. `shape` is outermost first (numpy order), so
// the block dimension is shape.back(). Errors (InvalidArgument) on a negative dimension, an
// innermost dimension not divisible by the block size, or a size that overflows 64 bits.
absl::StatusOr<std::uint64_t> TensorBytes(DType dtype, std::span<const std::int64_t> shape);

// Number of elements; the same overflow checks.
absl::StatusOr<std::uint64_t> ElementCount(std::span<const std::int64_t> shape);

}  // namespace cace

#endif  // CACE_LIB_LOADER_DTYPE_H_
