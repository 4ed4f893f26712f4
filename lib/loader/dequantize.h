// Conversion of a run of stored elements of any loadable dtype to f32 (or, through f32, to f16 or
// bf16) on the CPU (the CUDA kernels call the same per-block functions of quant_blocks.h).
#ifndef CACE_LIB_LOADER_DEQUANTIZE_H_
#define CACE_LIB_LOADER_DEQUANTIZE_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "lib/loader/dtype.h"

namespace cace {

// Converts dst.size() elements stored as `dtype` in `src` (which must hold exactly their bytes;
// for quantized types dst.size() must be a multiple of the block size). Plain float types and
// integer types are converted by value; BOOL and U8 as 0/1 and 0..255.
absl::Status DequantizeToF32(DType dtype, std::span<const std::byte> src, std::span<float> dst);

// Converts the `count` elements stored as `from` in `src` to `to` in `dst` (exactly their bytes
// in each type; `to` is F32, F16, BF16 or equal to `from`), for a backend that stores a tensor in
// another type than its file. `dst` must be 4-byte aligned when `to` is F32.
absl::Status ConvertTensor(DType from, std::span<const std::byte> src, DType to, std::span<std::byte> dst,
                           std::uint64_t count);

}  // namespace cace

#endif  // CACE_LIB_LOADER_DEQUANTIZE_H_
