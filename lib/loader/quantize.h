// f32 -> stored element types, for writers of test and example models. Plain rounding to the
// block formats of quant_blocks.h (not llama.cpp's error-minimising search): what matters here is
// that the bytes are valid blocks whose dequantized values are known.
#ifndef CACE_LIB_LOADER_QUANTIZE_H_
#define CACE_LIB_LOADER_QUANTIZE_H_

#include <cstddef>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"

namespace cace {

// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K. For quantized types values.size() must be a
// multiple of the block size (each row of a matrix is quantized on its own, so a matrix's row
// length must be too).
absl::StatusOr<std::vector<std::byte>> QuantizeFromF32(DType dtype, std::span<const float> values);

}  // namespace cace

#endif  // CACE_LIB_LOADER_QUANTIZE_H_
