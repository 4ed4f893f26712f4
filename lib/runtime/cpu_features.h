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

// Up to how many bytes a stream of decode's rows read as stored (cpu_gemm.h, cpu_int8_rows.h) is
// prefetched a few rows ahead by software, found on first call. Intel (the Xeon the streams were
// tuned on, where the hardware prefetchers alone left loads waiting) and others: every stream.
// AMD: streams under 40 KB only. On a Zen 5 (cace_gguf_speed decode, alternating runs),
// prefetching every stream cost the tiny model's 64 KB streams 15-20 % at one thread, while
// SmolLM2's streams of 20 KB and less ran 5-18 % faster with it; of the two bounds tried, 40 and
// 200 KB, 40 KB did best on both.
// CACE_DECODE_PREFETCH=0|1 in the environment turns it off or on for every stream (to measure).
std::int64_t DecodePrefetchMaxStreamBytes();

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_FEATURES_H_
