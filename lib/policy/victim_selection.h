// The shared last step of most policies: evict in increasing key order until enough is freed.
#ifndef CACE_LIB_POLICY_VICTIM_SELECTION_H_
#define CACE_LIB_POLICY_VICTIM_SELECTION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "cace/eviction_policy.h"

namespace cace {

// Orders candidates by increasing `keys[i]` (ties: least recent use first, then lower handle, so
// decisions are deterministic) as far as needed: the first k entries of `order` become the indices
// of the candidates to evict, in that order, the fewest whose bytes reach `bytes_needed`, and k is
// returned. Victims are usually a few among many candidates, so one pass keeps the lowest few in a
// small sorted buffer, O(n); only when they do not free enough does a heap order the rest,
// O(n + k log n).
std::size_t OrderLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                            std::uint64_t bytes_needed, std::vector<std::uint32_t>& order);

// OrderLowestKeys, appending the chosen candidates' models to `victims`. `order` is scratch space.
void SelectLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                      std::uint64_t bytes_needed, std::vector<std::uint32_t>& order,
                      std::vector<ModelHandle>& victims);

}  // namespace cace

#endif  // CACE_LIB_POLICY_VICTIM_SELECTION_H_
