// The seeds (and crash inputs found since) of the C ABI and FIM fuzz targets, replayed in the
// normal build, where the fuzzers (clang only) are not built: each input runs through the same
// target function, whose checks abort on a broken promise.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fuzz/capi_fuzz_target.h"
#include "tests/fuzz/fim_fuzz_target.h"

namespace cace {
namespace {

int Replay(const std::string& folder, int (*target)(const std::uint8_t*, std::size_t)) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CACE_SOURCE_DIR) + folder)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    INFO(entry.path().string());
    CHECK(target(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()) == 0);
    ++files;
  }
  return files;
}

TEST_CASE("C ABI call-sequence fuzz inputs replay cleanly", "[reliability][fuzz]") {
  CHECK(Replay("/tests/fuzz/corpus/fuzz_capi", fuzz::FuzzCapiCalls) >= 3);
}

TEST_CASE("FIM prompt fuzz inputs replay cleanly", "[reliability][fuzz]") {
  CHECK(Replay("/tests/fuzz/corpus/fuzz_fim_prompt", fuzz::FuzzFimPrompt) >= 5);
}

}  // namespace
}  // namespace cace
