// libFuzzer target: see loader_fuzz_targets.h.
#include "tests/fuzz/loader_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cace::fuzz::FuzzSafetensors(data, size);
}
