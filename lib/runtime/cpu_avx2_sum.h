// The sum of an AVX2 vector's eight floats, for the AVX2 int8 row tiles (cpu_gemm_int8.cc,
// cpu_gemm_q4_k_int8.cc, cpu_gemm_q6_k_int8.cc), which reduce each accumulator once per tile.
// Compiled for AVX2 wherever it is included, like the kernels that call it.
#ifndef CACE_LIB_RUNTIME_CPU_AVX2_SUM_H_
#define CACE_LIB_RUNTIME_CPU_AVX2_SUM_H_

#include "lib/runtime/cpu_features.h"

#if CACE_X86_KERNELS
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace cace::avx2 {

inline float SumLanes(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

}  // namespace cace::avx2
#pragma GCC pop_options
#endif  // CACE_X86_KERNELS

#endif  // CACE_LIB_RUNTIME_CPU_AVX2_SUM_H_
