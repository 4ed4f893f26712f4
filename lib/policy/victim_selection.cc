#include "lib/policy/victim_selection.h"

#include <algorithm>
#include <limits>

namespace cace {

namespace {

// How many of the lowest keys the first pass keeps: more than decisions usually evict, few enough
// that inserting into the buffer stays cheap.
constexpr std::size_t kBuffer = 8;

// Whether the candidate at index a goes before the one at index b: a strict total order.
struct EvictedBefore {
  std::span<const Candidate> candidates;
  std::span<const double> keys;
  bool operator()(std::uint32_t a, std::uint32_t b) const {
    if (keys[a] != keys[b]) return keys[a] < keys[b];
    if (candidates[a].last_use != candidates[b].last_use) {
      return candidates[a].last_use < candidates[b].last_use;
    }
    return candidates[a].model < candidates[b].model;
  }
};

// Keeps the kBuffer lowest candidates, sorted, in order[0, held); returns held.
std::size_t KeepLowest(const EvictedBefore& before, std::vector<std::uint32_t>& order) {
  const std::size_t n = before.candidates.size();
  std::uint32_t* lowest = order.data();
  std::size_t held = 0;
  // Once the buffer is full, most candidates fail the first comparison, on the key alone.
  double highest_held = std::numeric_limits<double>::infinity();
  for (std::uint32_t i = 0; i < n; ++i) {
    if (before.keys[i] > highest_held) continue;
    if (held == kBuffer) {
      if (!before(i, lowest[kBuffer - 1])) continue;
      --held;
    }
    std::size_t j = held++;
    for (; j > 0 && before(i, lowest[j - 1]); --j) lowest[j] = lowest[j - 1];
    lowest[j] = i;
    if (held == kBuffer) highest_held = before.keys[lowest[kBuffer - 1]];
  }
  return held;
}

}  // namespace

std::size_t OrderLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                            std::uint64_t bytes_needed, std::vector<std::uint32_t>& order) {
  const EvictedBefore before{candidates, keys};
  order.resize(candidates.size());
  const std::size_t held = KeepLowest(before, order);
  std::uint64_t freed = 0;
  std::size_t k = 0;
  for (; k < held && freed < bytes_needed; ++k) freed += candidates[order[k]].bytes;
  // Enough among the lowest, or they were every candidate there is.
  if (freed >= bytes_needed || held == candidates.size()) return k;

  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  // std heaps keep the largest on top, so "comes later" is "is larger".
  auto evicted_later = [&](std::uint32_t a, std::uint32_t b) { return before(b, a); };
  std::make_heap(order.begin(), order.end(), evicted_later);
  freed = 0;
  auto end = order.end();
  while (freed < bytes_needed && end != order.begin()) {
    std::pop_heap(order.begin(), end, evicted_later);
    --end;
    freed += candidates[*end].bytes;
  }
  // The heap left them at the back, last chosen first.
  const auto chosen = static_cast<std::size_t>(order.end() - end);
  std::reverse(order.begin(), order.end());
  return chosen;
}

void SelectLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                      std::uint64_t bytes_needed, std::vector<std::uint32_t>& order,
                      std::vector<ModelHandle>& victims) {
  const std::size_t k = OrderLowestKeys(candidates, keys, bytes_needed, order);
  for (std::size_t j = 0; j < k; ++j) victims.push_back(candidates[order[j]].model);
}

}  // namespace cace
