// What the processor's vector units offer, found once at run time, so one binary runs the widest
// kernels the processor has and still runs where it has fewer.
//
// CACE_CPU_CLONES compiles a hot CPU function twice, for x86-64-v3 (AVX2, FMA, F16C) and for the
// baseline, and picks one when the program loads (GCC/Clang function multi-versioning).
// CpuIsa names the hand-written kernel sets (lib/runtime/cpu_gemm*): the widest one the processor
// and the OS support is chosen from cpuid; CACE_CPU_ISA=avx512|avx2|baseline in the environment caps
// it (to measure or test the narrower kernels on a wide processor).
#ifndef CACE_LIB_RUNTIME_CPU_FEATURES_H_
#define CACE_LIB_RUNTIME_CPU_FEATURES_H_

#include <cstdint>
#include <string_view>

// Not in sanitizer builds: the clone resolvers run before the sanitizer runtime is set up.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(CACE_NO_CPU_CLONES) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CACE_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CACE_CPU_CLONES
#endif

// The x86 kernel sets are compiled where the compiler takes GCC's target pragmas: GCC, not clang
// (which ignores them; the libFuzzer build is clang's and runs the portable kernels).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CACE_X86_KERNELS 1
#else
#define CACE_X86_KERNELS 0
#endif

namespace cace {

// Ordered: a processor that runs one set runs every set before it.
enum class CpuIsa : int {
  kBaseline = 0,  // portable C++ (what the compiler makes of it)
  kAvx2 = 1,      // AVX2 + FMA + F16C, 8 floats a vector
  kAvx512 = 2,    // AVX-512 F/BW/VL/DQ + FMA + F16C, 16 floats a vector
  kAvx512Vnni = 3,  // AVX-512 as above + VNNI (vpdpbusd: 64 int8 products summed in fours)
};

// The widest set this processor and OS run (capped by CACE_CPU_ISA), found on first call.
CpuIsa DetectedCpuIsa();

std::string_view CpuIsaName(CpuIsa isa);

// How many bytes ahead of where decode's row streams (cpu_gemm.h, cpu_int8_rows.h) read the
// kernels ask memory for their rows, found on first call: kDecodePrefetchBytes, or
// CACE_DECODE_PREFETCH=N in the environment (N bytes; 0: none, to measure). F32 rows are left to
// the hardware (cpu_gemm_kernel.inc says why). Every kernel that widens or multiplies its bytes
// in integers falls behind memory with the hardware prefetchers alone. On one Zen 5 core:
// - Q8_0 rows of 1536 x 576 cycled through 113 MB (a benchmark written for this and not kept):
//   28-30 GB/s from memory without, 37-38 GB/s with 2 KB ahead; summing the same bytes, 38-45.
// - cace_gguf_speed decode, medians of three alternating rounds without and with: SmolLM2 Q8_0
//   190.5 and 215.7 tokens/s, tiny Q8_0 316.9 and 363.5, SmolLM2 F16 108.5 and 127.3, tiny F16
//   173.1 and 190.5. At two threads (half the bandwidth a thread) from -5.5 % (tiny F16) to +4 %
//   against the code before; a sweep of SmolLM2 Q8_0 there gave 255-263 tokens/s with none,
//   272-280 at 1 KB, 296-305 at 2 KB, 299-305 at 4 KB.
// Intel's Xeon, where the streams were first tuned (rows read 2 rows ahead), was not measured.
inline constexpr std::int64_t kDecodePrefetchBytes = 2048;
std::int64_t DecodePrefetchDistance();

// Asks memory for kLines cache lines from `from` on: a row stream's next step, the distance
// ahead. An address as an integer: it may lie past the stream's end (a prefetch does not fault).
// Branch-free, as the tiles want it: a step of fewer bytes than a line asks for its line again
// (steps of 68 bytes, a Q8_0 pair of blocks, miss one line in 17; the hardware brings that one).
// The empty asm is an effect the compiler must keep: GCC 12 deletes a loop of a known trip count
// whose body is only prefetches (it did so here, inlined into the tiles).
template <int kLines = 1>
inline void PrefetchLines(std::uintptr_t from) {
  for (int i = 0; i < kLines; ++i) {
    __builtin_prefetch(reinterpret_cast<const void*>(from + 64 * static_cast<std::uintptr_t>(i)));
    asm volatile("");
  }
}

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_FEATURES_H_
