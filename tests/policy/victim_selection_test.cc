// The shared selection step against a full sort, with ties and with more victims than its first
// pass keeps.
#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include "lib/policy/victim_selection.h"

namespace cace {
namespace {

std::vector<ModelHandle> BySort(std::span<const Candidate> candidates, std::span<const double> keys,
                                std::uint64_t bytes_needed) {
  std::vector<std::uint32_t> order(candidates.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (keys[a] != keys[b]) return keys[a] < keys[b];
    if (candidates[a].last_use != candidates[b].last_use) {
      return candidates[a].last_use < candidates[b].last_use;
    }
    return candidates[a].model < candidates[b].model;
  });
  std::vector<ModelHandle> victims;
  std::uint64_t freed = 0;
  for (std::uint32_t i : order) {
    if (freed >= bytes_needed) break;
    victims.push_back(candidates[i].model);
    freed += candidates[i].bytes;
  }
  return victims;
}

TEST_CASE("selecting the lowest keys matches a full sort") {
  std::mt19937 rng(99);
  std::vector<std::uint32_t> order;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t n = rng() % 300;
    std::vector<Candidate> candidates;
    std::vector<double> keys;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      // Few distinct keys and times, so that ties and tie-breaks are common.
      const std::uint64_t bytes = 1 + rng() % (trial % 2 == 0 ? 4 : 1000);
      candidates.push_back({static_cast<ModelHandle>(rng() % 100000), bytes,
                            static_cast<double>(rng() % 5), 1.0});
      keys.push_back(trial % 3 == 0 ? static_cast<double>(rng() % 4) : std::ldexp(rng(), -20));
      total += bytes;
    }
    // From nothing needed to everything: up to every candidate chosen, past the first pass.
    const std::uint64_t needed = total == 0 ? 0 : rng() % (total + 1);
    std::vector<ModelHandle> victims;
    SelectLowestKeys(candidates, keys, needed, order, victims);
    INFO("trial " << trial << ": " << n << " candidates, " << needed << " of " << total << " bytes");
    REQUIRE(victims == BySort(candidates, keys, needed));
  }
}

}  // namespace
}  // namespace cace
