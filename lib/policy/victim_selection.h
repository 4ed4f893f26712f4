// The shared last step of most policies: evict in increasing key order until enough is freed.
#ifndef CACE_LIB_POLICY_VICTIM_SELECTION_H_
#define CACE_LIB_POLICY_VICTIM_SELECTION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "cace/eviction_policy.h"

namespace cace {

// Appends candidates to `victims` in increasing `keys[i]` order (ties: least recent use first, then
// lower handle, so decisions are deterministic) until their bytes reach `bytes_needed`. Costs
// O(n + k log n) for k victims: a heap, not a full sort, since k is usually 1 or 2. `order` is
// scratch space.
void SelectLowestKeys(std::span<const Candidate> candidates, std::span<const double> keys,
                      std::uint64_t bytes_needed, std::vector<std::uint32_t>& order,
                      std::vector<ModelHandle>& victims);

}  // namespace cace

#endif  // CACE_LIB_POLICY_VICTIM_SELECTION_H_
