#include "lib/runtime/cpu_matmul.h"

#include "lib/runtime/cpu_features.h"
#include "lib/runtime/kernels_math.h"

#if CACE_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define CACE_X86_KERNELS 1
#else
#define CACE_X86_KERNELS 0
#endif

namespace cace {
namespace {

// Up to this many tokens (decode of a batch of sequences) each weight row is read once in its
// stored type and dotted with every token while it is in L1; beyond it (prefill) the matrix is
// widened once and multiplied by sgemm, or row by row by the own kernels.
constexpr std::int64_t kDirectTokens = 8;

const std::uint16_t* U16(const std::byte* p) { return reinterpret_cast<const std::uint16_t*>(p); }
const std::uint8_t* U8(const std::byte* p) { return reinterpret_cast<const std::uint8_t*>(p); }

// y[t][r] for rows [begin, end), weights read as stored.
CACE_CPU_CLONES void DirectRows(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y,
                                std::int64_t begin, std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    for (std::int64_t t = 0; t < n_tokens; ++t) y[t * w.rows + r] = DotRow(w, r, x + t * w.cols);
  }
}

// y[t][r] for rows [begin, end), each row widened into `row` once.
CACE_CPU_CLONES void WidenedRows(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y,
                                 std::int64_t begin, std::int64_t end, float* row) {
  const int cols = static_cast<int>(w.cols);
  for (std::int64_t r = begin; r < end; ++r) {
    DequantizeRow(w, r, row);
    for (std::int64_t t = 0; t < n_tokens; ++t) y[t * w.rows + r] = kmath::DotF32(row, x + t * w.cols, cols);
  }
}

#if CACE_X86_KERNELS
// Compilers turn neither int8 nor half widening inside a reduction into vector code, so the two
// types that need it get AVX2 versions of kmath::DotQ8_0Row and kmath::DotF16 (same arithmetic:
// F32 products summed in eight lanes), used when the CPU has AVX2, FMA and F16C.
const bool kHaveAvx2 = [] {
  __builtin_cpu_init();  // this initializer may run before libgcc's own
  // F16C through CPUID (leaf 1, ECX): clang before 16 knows no "f16c" for __builtin_cpu_supports.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
}();

__attribute__((target("avx2,fma,f16c"))) float HorizontalSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

__attribute__((target("avx2,fma,f16c"))) float DotQ8_0RowAvx2(const std::uint8_t* row, const float* x, int n_blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < n_blocks; ++b) {
    const std::uint8_t* block = row + b * quant::kQ8_0BlockBytes;
    const __m256 d = _mm256_set1_ps(quant::HalfToFloat(quant::LoadU16(block)));
    const float* xb = x + b * quant::kQ8_0BlockValues;
    __m256 block_acc = _mm256_setzero_ps();  // q . x of this block, lane-wise; scaled by d once
    for (int i = 0; i < quant::kQ8_0BlockValues; i += 8) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + i));
      const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
      block_acc = _mm256_fmadd_ps(q, _mm256_loadu_ps(xb + i), block_acc);
    }
    acc = _mm256_fmadd_ps(block_acc, d, acc);
  }
  return HorizontalSum(acc);
}

__attribute__((target("avx2,fma,f16c"))) float DotF16Avx2(const std::uint16_t* w, const float* x, int n) {
  __m256 acc = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 wf = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    acc = _mm256_fmadd_ps(wf, _mm256_loadu_ps(x + i), acc);
  }
  float sum = HorizontalSum(acc);
  for (; i < n; ++i) sum += quant::HalfToFloat(w[i]) * x[i];
  return sum;
}
#endif

}  // namespace

CACE_CPU_CLONES float DotRow(const WeightMatrix& w, std::int64_t r, const float* x) {
  const std::byte* row = w.Row(r);
  const int n = static_cast<int>(w.cols);
  switch (w.dtype) {
    case DType::kF32:
      return kmath::DotF32(reinterpret_cast<const float*>(row), x, n);
    case DType::kF16:
#if CACE_X86_KERNELS
      if (kHaveAvx2) return DotF16Avx2(U16(row), x, n);
#endif
      return kmath::DotF16(U16(row), x, n);
    case DType::kQ8_0:
#if CACE_X86_KERNELS
      if (kHaveAvx2) return DotQ8_0RowAvx2(U8(row), x, n / quant::kQ8_0BlockValues);
#endif
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
    default:
      for (int i = 0; i < n; ++i) out[i] = 0.0f;  // ValidateWeights admits no other type
  }
}

bool CpuMatmul::HaveBlas() { return CACE_HAVE_OPENBLAS != 0; }

CpuMatmul::CpuMatmul(ThreadPool* pool, bool use_blas) : pool_(pool), use_blas_(use_blas && HaveBlas()) {
#if CACE_HAVE_OPENBLAS
  if (use_blas_) openblas_set_num_threads(1);
#endif
}

void CpuMatmul::Multiply(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  const std::int64_t rows = w.rows;
  const std::int64_t cols = w.cols;
  if (n_tokens <= kDirectTokens) {
    pool_->ParallelFor(rows, [&](std::int64_t b, std::int64_t e, int) { DirectRows(w, x, n_tokens, y, b, e); });
    return;
  }
#if CACE_HAVE_OPENBLAS
  if (use_blas_) {
    // y = x W^T by OpenBLAS sgemm, one slice of W's rows per pool thread (OpenBLAS's own threads
    // are kept at one: two thread pools spinning on two cores slow each other down). Other types
    // are widened into scratch first, by the same threads.
    if (w.dtype != DType::kF32) widened_.resize(static_cast<std::size_t>(rows * cols));
    pool_->ParallelFor(rows, [&](std::int64_t b, std::int64_t e, int) {
      const float* wf = reinterpret_cast<const float*>(w.data);
      if (w.dtype != DType::kF32) {
        for (std::int64_t r = b; r < e; ++r) DequantizeRow(w, r, widened_.data() + r * cols);
        wf = widened_.data();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n_tokens), static_cast<int>(e - b),
                  static_cast<int>(cols), 1.0f, x, static_cast<int>(cols), wf + b * cols, static_cast<int>(cols), 0.0f,
                  y + b, static_cast<int>(rows));
    });
    return;
  }
#endif
  if (w.dtype == DType::kF32) {
    pool_->ParallelFor(rows, [&](std::int64_t b, std::int64_t e, int) { DirectRows(w, x, n_tokens, y, b, e); });
    return;
  }
  scratch_.resize(static_cast<std::size_t>(pool_->size()));
  pool_->ParallelFor(rows, [&](std::int64_t b, std::int64_t e, int thread) {
    std::vector<float>& row = scratch_[static_cast<std::size_t>(thread)];
    row.resize(static_cast<std::size_t>(cols));
    WidenedRows(w, x, n_tokens, y, b, e, row.data());
  });
}

}  // namespace cace
