// libFuzzer target: see server_fuzz_targets.h.
#include "tests/fuzz/server_fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cace::fuzz::FuzzChatTemplate(data, size);
}
