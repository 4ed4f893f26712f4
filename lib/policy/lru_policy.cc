#include "lib/policy/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

void LruPolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  keys_.resize(request.candidates.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) keys_[i] = request.candidates[i].last_use;
  SelectLowestKeys(request.candidates, keys_, request.bytes_needed, order_, victims);
}

}  // namespace cace
