#include "lib/policy/victim_selection.h"

#include <algorithm>

namespace cace {

void SelectLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                      std::uint64_t bytes_needed, std::vector<std::uint32_t>& order,
                      std::vector<ModelHandle>& victims) {
  order.resize(candidates.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  // std heaps keep the largest on top, so "comes later" is "is larger".
  auto evicted_later = [&](std::uint32_t a, std::uint32_t b) {
    if (keys[a] != keys[b]) return keys[a] > keys[b];
    if (candidates[a].last_use != candidates[b].last_use) {
      return candidates[a].last_use > candidates[b].last_use;
    }
    return candidates[a].model > candidates[b].model;
  };
  std::make_heap(order.begin(), order.end(), evicted_later);
  std::uint64_t freed = 0;
  auto end = order.end();
  while (freed < bytes_needed && end != order.begin()) {
    std::pop_heap(order.begin(), end, evicted_later);
    --end;
    victims.push_back(candidates[*end].model);
    freed += candidates[*end].bytes;
  }
}

}  // namespace cace
