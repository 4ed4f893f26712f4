// Runs every file of a folder of the source tree through a fuzz target's function: the seeds and
// crash inputs of tests/fuzz/corpus/<target>, replayed in the normal build.
#ifndef CACE_TESTS_RELIABILITY_REPLAY_INPUTS_H_
#define CACE_TESTS_RELIABILITY_REPLAY_INPUTS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace cace::testing {

// The number of files run; each must return 0 (the targets abort on a broken check).
inline int ReplayInputs(const std::string& folder, int (*target)(const std::uint8_t*, std::size_t)) {
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

}  // namespace cace::testing

#endif  // CACE_TESTS_RELIABILITY_REPLAY_INPUTS_H_
