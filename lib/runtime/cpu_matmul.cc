#include "lib/runtime/cpu_matmul.h"

#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

// Up to this many tokens the weights are read in their stored type for every token; beyond it the
// cost of widening a row once is smaller than widening it per token.
constexpr std::int64_t kDirectTokens = 2;

const std::uint16_t* U16(const std::byte* p) { return reinterpret_cast<const std::uint16_t*>(p); }
const std::uint8_t* U8(const std::byte* p) { return reinterpret_cast<const std::uint8_t*>(p); }

}  // namespace

float DotRow(const WeightMatrix& w, std::int64_t r, const float* x) {
  const std::byte* row = w.Row(r);
  const int n = static_cast<int>(w.cols);
  switch (w.dtype) {
    case DType::kF32:
      return kmath::DotF32(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16:
      return kmath::DotF16(U16(row), x, n);
    case DType::kBF16:
      return kmath::DotBf16(U16(row), x, n);
    case DType::kQ8_0: {
      float sum = 0.0f;
      for (int b = 0; b < n / quant::kQ8_0BlockValues; ++b) {
        sum += kmath::DotQ8_0Block(U8(row) + b * quant::kQ8_0BlockBytes, x + b * quant::kQ8_0BlockValues);
      }
      return sum;
    }
    case DType::kQ4_K: {
      float sum = 0.0f;
      for (int b = 0; b < n / quant::kQKValues; ++b) {
        sum += kmath::DotQ4_KBlock(U8(row) + b * quant::kQ4_KBlockBytes, x + b * quant::kQKValues);
      }
      return sum;
    }
    default:
      return 0.0f;  // ValidateWeights admits no other type
  }
}

void DequantizeRow(const WeightMatrix& w, std::int64_t r, float* out) {
  const std::byte* row = w.Row(r);
  const int n = static_cast<int>(w.cols);
  switch (w.dtype) {
    case DType::kF32:
      for (int i = 0; i < n; ++i) out[i] = reinterpret_cast<const float*>(row)[i];
      return;
    case DType::kF16:
      for (int i = 0; i < n; ++i) out[i] = quant::HalfToFloat(U16(row)[i]);
      return;
    case DType::kBF16:
      for (int i = 0; i < n; ++i) out[i] = quant::Bf16ToFloat(U16(row)[i]);
      return;
    case DType::kQ8_0:
      for (int b = 0; b < n / quant::kQ8_0BlockValues; ++b) {
        quant::DequantizeQ8_0(U8(row) + b * quant::kQ8_0BlockBytes, out + b * quant::kQ8_0BlockValues);
      }
      return;
    case DType::kQ4_K:
      for (int b = 0; b < n / quant::kQKValues; ++b) {
        quant::DequantizeQ4_K(U8(row) + b * quant::kQ4_KBlockBytes, out + b * quant::kQKValues);
      }
      return;
    default:
      for (int i = 0; i < n; ++i) out[i] = 0.0f;  // ValidateWeights admits no other type
  }
}

void CpuMatmul::Multiply(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t rows = w.rows;
  const std::int64_t cols = w.cols;
  if (n_tokens <= kDirectTokens || w.dtype == DType::kF32) {
    pool_->ParallelFor(rows, [&](std::int64_t begin, std::int64_t end, int) {
      for (std::int64_t r = begin; r < end; ++r) {
        for (std::int64_t t = 0; t < n_tokens; ++t) y[t * rows + r] = DotRow(w, r, x + t * cols);
      }
    });
    return;
  }
  scratch_.resize(static_cast<std::size_t>(pool_->size()));
  pool_->ParallelFor(rows, [&](std::int64_t begin, std::int64_t end, int thread) {
    std::vector<float>& row = scratch_[static_cast<std::size_t>(thread)];
    row.resize(static_cast<std::size_t>(cols));
    for (std::int64_t r = begin; r < end; ++r) {
      DequantizeRow(w, r, row.data());
      for (std::int64_t t = 0; t < n_tokens; ++t) {
        y[t * rows + r] = kmath::DotF32(row.data(), x + t * cols, static_cast<int>(cols));
      }
    }
  });
}

}  // namespace cace
