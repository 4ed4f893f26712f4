#include "lib/runtime/cpu_matmul.h"

#include <algorithm>

#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/kernels_math.h"

#if CACE_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace cace {
namespace {

const std::uint16_t* U16(const std::byte* p) { return reinterpret_cast<const std::uint16_t*>(p); }
const std::uint8_t* U8(const std::byte* p) { return reinterpret_cast<const std::uint8_t*>(p); }

// The types whose products take int8 activations (CpuMatmul's int8_activations).
bool HasInt8Products(DType dtype) { return dtype == DType::kQ8_0 || dtype == DType::kQ4_K || dtype == DType::kQ6_K; }

// Whether the int8 kernel that reads rows as stored multiplies n_tokens tokens of this type on isa
// (the bounds' headers say why there).
bool Int8RowsServe(CpuIsa isa, DType dtype, std::int64_t n_tokens) {
  switch (dtype) {
    case DType::kQ8_0: return n_tokens <= kInt8StreamMaxTokens;
    case DType::kQ4_K: return n_tokens <= kQ4_KInt8MaxTokens;
    case DType::kQ6_K: return Q6_KInt8Runs(isa) && n_tokens <= kQ6_KInt8MaxTokens;
    default: return false;
  }
}

}  // namespace

CACE_CPU_CLONES float DotRow(const WeightMatrix& w, std::int64_t r, const float* x) {
  const std::byte* row = w.Row(r);
  const int n = static_cast<int>(w.cols);
  switch (w.dtype) {
    case DType::kF32:
      return kmath::DotF32(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16:
      return kmath::DotF16(U16(row), x, n);
    case DType::kQ8_0:
      return kmath::DotQ8_0Row(U8(row), x, n / quant::kQ8_0BlockValues);
    case DType::kBF16:
      return kmath::DotBf16(U16(row), x, n);
    case DType::kQ4_K: {
      float sum = 0.0f;
      for (int b = 0; b < n / quant::kQKValues; ++b) {
        sum += kmath::DotQ4_KBlock(U8(row) + b * quant::kQ4_KBlockBytes, x + b * quant::kQKValues);
      }
      return sum;
    }
    case DType::kQ6_K: {
      float sum = 0.0f;
      float values[quant::kQKValues];
      for (int b = 0; b < n / quant::kQKValues; ++b) {
        quant::DequantizeQ6_K(U8(row) + b * quant::kQ6_KBlockBytes, values);
        sum += kmath::DotF32(values, x + b * quant::kQKValues, quant::kQKValues);
      }
      return sum;
    }
    default:
      return 0.0f;  // ValidateWeights admits no other type
  }
}

CACE_CPU_CLONES void DequantizeRow(const WeightMatrix& w, std::int64_t r, float* out) {
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
    case DType::kQ6_K:
      for (int b = 0; b < n / quant::kQKValues; ++b) {
        quant::DequantizeQ6_K(U8(row) + b * quant::kQ6_KBlockBytes, out + b * quant::kQKValues);
      }
      return;
    default:
      for (int i = 0; i < n; ++i) out[i] = 0.0f;  // ValidateWeights admits no other type
  }
}

std::uint64_t CpuMatmul::ScratchBytes() const {
  std::uint64_t bytes = widened_.capacity() * sizeof(float);
  for (const AlignedVector<float>& s : scratch_) bytes += s.capacity() * sizeof(float);
  return bytes + quantized_.CapacityBytes() + tiles_.CapacityBytes() + rounded_.capacity() * sizeof(float);
}

bool CpuMatmul::HaveBlas() { return CACE_HAVE_OPENBLAS != 0; }

CpuMatmul::CpuMatmul(ThreadPool* pool, bool use_blas, bool int8_activations)
    : pool_(pool), use_blas_(use_blas && HaveBlas()), int8_activations_(int8_activations), isa_(DetectedCpuIsa()) {
#if CACE_HAVE_OPENBLAS
  if (use_blas_) openblas_set_num_threads(1);
#endif
}

CpuMatmul::Plan CpuMatmul::PlanOf(const WeightMatrix& w, std::int64_t n_tokens) const {
  bool round_to_q8_0 = false;
  if (int8_activations_ && HasInt8Products(w.dtype)) {
    if (w.dtype == DType::kQ8_0 && Int8PanelsRun(isa_) && n_tokens >= kInt8PanelMinTokens) {
      return {Route::kInt8Panels, false};
    }
    if (Int8RowsServe(isa_, w.dtype, n_tokens)) return {Route::kInt8Rows, false};
    round_to_q8_0 = true;
  }
  if (use_blas_ && n_tokens > kBlasMinTokens) return {Route::kBlas, round_to_q8_0};
  return {Route::kRows, round_to_q8_0};
}

const float* CpuMatmul::RoundedToQ8_0(const float* x, std::int64_t n_tokens, std::int64_t cols) {
  rounded_.resize(static_cast<std::size_t>(n_tokens * cols));
  pool_->ParallelFor(n_tokens, [&](std::int64_t b, std::int64_t e, int) {
    RoundToQ8_0(x, static_cast<int>(cols), b, e, rounded_.data());
  });
  return rounded_.data();
}

void CpuMatmul::MultiplyRows(std::span<const MatmulOutput> outputs, Plan plan, const float* x,
                             std::int64_t n_tokens) {
  const std::int64_t cols = outputs[0].w->cols;
  if (plan.route == Route::kInt8Rows) {
    quantized_.Resize(n_tokens, static_cast<int>(cols));
    if (n_tokens == 1) {
      quantized_.Quantize(x, 0, 1);  // one token: not worth waking the pool
    } else {
      pool_->ParallelFor(n_tokens, [&](std::int64_t b, std::int64_t e, int) { quantized_.Quantize(x, b, e); });
    }
  } else if (plan.round_to_q8_0) {
    x = RoundedToQ8_0(x, n_tokens, cols);
  }
  // The pool takes each matrix's rows in units of the kernel's granule.
  const auto granule_of = [&](const WeightMatrix& w) {
    return plan.route == Route::kRows ? GemmRowsGranule(isa_, w.dtype, n_tokens) : kGemmRowGroup;
  };
  const auto units_of = [&](const WeightMatrix& w) { return (w.rows + granule_of(w) - 1) / granule_of(w); };
  std::int64_t total_units = 0;
  for (const MatmulOutput& out : outputs) total_units += units_of(*out.w);
  scratch_.resize(static_cast<std::size_t>(pool_->size()));
  // Unit u of the whole range is unit u - first of the matrix whose units start at first.
  pool_->ParallelFor(total_units, [&](std::int64_t b, std::int64_t e, int thread) {
    std::int64_t first = 0;
    for (const MatmulOutput& out : outputs) {
      const WeightMatrix& w = *out.w;
      const std::int64_t units = units_of(w);
      const std::int64_t lo = std::max(b, first) - first, hi = std::min(e, first + units) - first;
      first += units;
      if (lo >= hi) continue;
      const std::int64_t begin = lo * granule_of(w), end = std::min(w.rows, hi * granule_of(w));
      if (plan.route == Route::kRows) {
        AlignedVector<float>& scratch = scratch_[static_cast<std::size_t>(thread)];
        scratch.resize(std::max(scratch.size(), GemmScratchFloats(w)));
        GemmRows(isa_, w, x, n_tokens, out.y, w.rows, begin, end, scratch.data());
      } else if (w.dtype == DType::kQ4_K) {
        GemmRowsQ4_KInt8(isa_, w, quantized_, out.y, w.rows, begin, end);
      } else if (w.dtype == DType::kQ6_K) {
        GemmRowsQ6_KInt8(isa_, w, quantized_, out.y, w.rows, begin, end);
      } else {
        GemmRowsInt8(isa_, w, quantized_, out.y, w.rows, begin, end);
      }
    }
  });
}

void CpuMatmul::MultiplyInt8Panels(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t rows = w.rows;
  tiles_.Resize(n_tokens, static_cast<int>(w.cols));
  pool_->ParallelFor(n_tokens, [&](std::int64_t b, std::int64_t e, int) { tiles_.Quantize(x, b, e); });
  scratch_.resize(static_cast<std::size_t>(pool_->size()));
  // Threads take whole panels: a range of rows cut inside one would repack it twice.
  pool_->ParallelFor((rows + kInt8PanelRows - 1) / kInt8PanelRows, [&](std::int64_t b, std::int64_t e, int thread) {
    AlignedVector<float>& scratch = scratch_[static_cast<std::size_t>(thread)];
    scratch.resize(std::max(scratch.size(), Int8PanelScratchFloats(w)));
    GemmPanelsInt8(isa_, w, tiles_, y, rows, b * kInt8PanelRows, std::min(rows, e * kInt8PanelRows), scratch.data());
  });
}

void CpuMatmul::MultiplyBlas(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
#if CACE_HAVE_OPENBLAS
  // y = x W^T by OpenBLAS sgemm, one slice of W's rows per pool thread (OpenBLAS's own threads
  // are kept at one: two thread pools spinning on two cores slow each other down). Other types
  // are widened into scratch first, by the same threads.
  const std::int64_t rows = w.rows;
  const std::int64_t cols = w.cols;
  if (w.dtype != DType::kF32) widened_.resize(static_cast<std::size_t>(rows * cols));
  // Slices of whole 64-row units: the pool's last chunks are small, and sgemm on a few rows is slow.
  constexpr std::int64_t kUnit = 64;
  pool_->ParallelFor((rows + kUnit - 1) / kUnit, [&](std::int64_t ub, std::int64_t ue, int) {
    const std::int64_t b = ub * kUnit, e = std::min(rows, ue * kUnit);
    const float* wf = reinterpret_cast<const float*>(w.data);
    if (w.dtype != DType::kF32) {
      for (std::int64_t r = b; r < e; ++r) WidenRow(isa_, w, r, widened_.data() + r * cols);
      wf = widened_.data();
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n_tokens), static_cast<int>(e - b),
                static_cast<int>(cols), 1.0f, x, static_cast<int>(cols), wf + b * cols, static_cast<int>(cols), 0.0f,
                y + b, static_cast<int>(rows));
  });
#else
  (void)w, (void)x, (void)n_tokens, (void)y;  // PlanOf routes here only where OpenBLAS is built in
#endif
}

void CpuMatmul::Multiply(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const Plan plan = PlanOf(w, n_tokens);
  switch (plan.route) {
    case Route::kInt8Panels:
      return MultiplyInt8Panels(w, x, n_tokens, y);
    case Route::kBlas:
      return MultiplyBlas(w, plan.round_to_q8_0 ? RoundedToQ8_0(x, n_tokens, w.cols) : x, n_tokens, y);
    case Route::kRows:
    case Route::kInt8Rows: {
      const MatmulOutput out{&w, y};
      return MultiplyRows({&out, 1}, plan, x, n_tokens);
    }
  }
}

void CpuMatmul::MultiplyShared(std::span<const MatmulOutput> outputs, const float* x, std::int64_t n_tokens) {
  if (outputs.empty()) return;
  const Plan plan = PlanOf(*outputs[0].w, n_tokens);
  bool one_pass = plan.route == Route::kRows || plan.route == Route::kInt8Rows;
  for (const MatmulOutput& out : outputs) one_pass = one_pass && PlanOf(*out.w, n_tokens) == plan;
  if (one_pass) return MultiplyRows(outputs, plan, x, n_tokens);
  for (const MatmulOutput& out : outputs) Multiply(*out.w, x, n_tokens, out.y);
}

}  // namespace cace
