// An 8 x 8 transpose of 32-bit values in AVX2 registers, for the kernels that repack weight rows
// into panels column by column: the F32 prefill panels (cpu_gemm_kernel.inc) and the int8 panels
// (cpu_gemm_int8.cc, whose lanes hold four int8 values each). Shuffles only, so any 32-bit payload
// passes through bit for bit. Compiled for AVX2 wherever it is included, like the kernels that call it.
#ifndef CACE_LIB_RUNTIME_CPU_AVX2_TRANSPOSE_H_
#define CACE_LIB_RUNTIME_CPU_AVX2_TRANSPOSE_H_

#include "lib/runtime/cpu_features.h"

#if CACE_X86_KERNELS
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace cace::avx2 {

// v[k] element i becomes v[i] element k, for i, k < 8.
inline void Transpose8x8(__m256 v[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);  // per 128-bit half: a0 b0 a1 b1
    t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);  // a2 b2 a3 b3
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);  // a0 b0 c0 d0
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);  // a1 b1 c1 d1
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {  // rows 0-3 of column k in u[k], rows 4-7 in u[k + 4]; low halves columns 0-3
    v[k] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x20);
    v[k + 4] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x31);
  }
}

}  // namespace cace::avx2
#pragma GCC pop_options
#endif  // CACE_X86_KERNELS

#endif  // CACE_LIB_RUNTIME_CPU_AVX2_TRANSPOSE_H_
