// libFuzzer target: see capi_fuzz_target.h.
#include "tests/fuzz/capi_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cace::fuzz::FuzzCapiCalls(data, size);
}
