// Replays the fuzz seed corpora (tests/fuzz/corpus/<target>/) through the fuzz targets' entry
// points in the normal build, plus deterministic truncations and byte flips of each seed, so CI
// exercises the parsers' error paths without libFuzzer.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/fuzz/loader_fuzz_targets.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

std::vector<std::string> Seeds(const std::string& target) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(CACE_SOURCE_DIR) + "/tests/fuzz/corpus/" + target)) {
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Truncations at a spread of lengths and single-byte corruptions at a spread of offsets.
template <typename Target>
void ReplayWithMutations(const std::vector<std::byte>& seed, Target target) {
  auto run = [&](const std::vector<std::byte>& bytes) {
    target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  };
  run(seed);
  const std::size_t step = std::max<std::size_t>(1, seed.size() / 200);
  for (std::size_t n = 0; n < seed.size(); n += step) {
    run(std::vector<std::byte>(seed.begin(), seed.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  for (std::size_t i = 0; i < seed.size(); i += step) {
    for (int value : {0x00, 0xFF, 0x7F, 0x80}) {
      std::vector<std::byte> mutated = seed;
      mutated[i] = static_cast<std::byte>(value);
      run(mutated);
    }
  }
}

TEST_CASE("safetensors seeds are valid files, and their mutations are handled") {
  const auto seeds = Seeds("fuzz_safetensors");
  REQUIRE(seeds.size() >= 3);
  for (const std::string& path : seeds) {
    INFO(path);
    const auto bytes = testing::ReadBytes(path);
    CHECK(SafetensorsFile::Parse(bytes, path).ok());
    ReplayWithMutations(bytes, fuzz::FuzzSafetensors);
  }
}

TEST_CASE("GGUF seeds are valid files, and their mutations are handled") {
  const auto seeds = Seeds("fuzz_gguf");
  REQUIRE(seeds.size() >= 3);
  for (const std::string& path : seeds) {
    INFO(path);
    const auto bytes = testing::ReadBytes(path);
    CHECK(GgufFile::Parse(bytes, path).ok());
    ReplayWithMutations(bytes, fuzz::FuzzGguf);
  }
}

TEST_CASE("JSON seeds parse, and their mutations are handled") {
  const auto seeds = Seeds("fuzz_json_config");
  REQUIRE(seeds.size() >= 5);
  for (const std::string& path : seeds) {
    INFO(path);
    const auto bytes = testing::ReadBytes(path);
    CHECK(ParseJson(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path).ok());
    ReplayWithMutations(bytes, fuzz::FuzzJsonConfig);
  }
}

}  // namespace
}  // namespace cace
