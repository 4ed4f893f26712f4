// libFuzzer target: see fim_fuzz_target.h.
#include "tests/fuzz/fim_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cace::fuzz::FuzzFimPrompt(data, size);
}
