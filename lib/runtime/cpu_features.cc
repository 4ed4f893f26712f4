#include "lib/runtime/cpu_features.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace cace {
namespace {

CpuIsa Probe() {
#if CACE_X86_KERNELS
  __builtin_cpu_init();  // may run before libgcc's own initializer
  // libgcc's answers include the OS check (XGETBV): the vector state is saved on context switch.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c")) {
    return __builtin_cpu_supports("avx512vnni") ? CpuIsa::kAvx512Vnni : CpuIsa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return CpuIsa::kAvx2;
  }
#endif
  return CpuIsa::kBaseline;
}

CpuIsa Capped(CpuIsa found) {
  const char* cap = std::getenv("CACE_CPU_ISA");
  if (cap == nullptr) return found;
  const std::string_view name = cap;
  CpuIsa limit = found;
  if (name == "baseline") limit = CpuIsa::kBaseline;
  if (name == "avx512") limit = CpuIsa::kAvx512;
  if (name == "avx2") limit = CpuIsa::kAvx2;
  return static_cast<int>(limit) < static_cast<int>(found) ? limit : found;
}

std::int64_t ProbeDecodePrefetch() {
  const char* forced = std::getenv("CACE_DECODE_PREFETCH");
  if (forced == nullptr) return kDecodePrefetchBytes;
  return std::max<long long>(0, std::atoll(forced));
}

}  // namespace

std::int64_t DecodePrefetchDistance() {
  static const std::int64_t bytes = ProbeDecodePrefetch();
  return bytes;
}

CpuIsa DetectedCpuIsa() {
  static const CpuIsa isa = Capped(Probe());
  return isa;
}

std::string_view CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512Vnni: return "avx512vnni";
    case CpuIsa::kAvx512: return "avx512";
    case CpuIsa::kAvx2: return "avx2";
    case CpuIsa::kBaseline: break;
  }
  return "baseline";
}

}  // namespace cace
