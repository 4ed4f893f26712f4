// The server fuzz targets' seeds, replayed in the normal build (the fuzzers need clang).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/server_fuzz_targets.h"

namespace cace {
namespace {

int Replay(const std::string& folder, int (*target)(const std::uint8_t*, std::size_t)) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CACE_SOURCE_DIR) + folder)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    target(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    ++files;
  }
  return files;
}

TEST_CASE("server fuzz seeds run through the fuzz targets") {
  CHECK(Replay("/tests/fuzz/corpus/fuzz_server_request", fuzz::FuzzServerRequest) >= 6);
  CHECK(Replay("/tests/server/templates", fuzz::FuzzChatTemplate) >= 5);
}

}  // namespace
}  // namespace cace
