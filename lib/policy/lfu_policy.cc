#include "lib/policy/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

void LfuPolicy::OnAccess(const AccessEvent& event) {
  if (event.model >= counts_.size()) counts_.resize(event.model + 1, 0);
  ++counts_[event.model];
}

void LfuPolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  keys_.resize(request.candidates.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const ModelHandle m = request.candidates[i].model;
    keys_[i] = m < counts_.size() ? static_cast<double>(counts_[m]) : 0.0;
  }
  SelectLowestKeys(request.candidates, keys_, request.bytes_needed, order_, victims);
}

}  // namespace cace
