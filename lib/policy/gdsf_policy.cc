#include <algorithm>

#include "lib/policy/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

void GdsfPolicy::OnAccess(const AccessEvent& event) {
  if (event.model >= frequency_.size()) frequency_.resize(event.model + 1, 0);
  ++frequency_[event.model];
}

void GdsfPolicy::OnEvict(ModelHandle model, Seconds /*now*/) {
  if (model < frequency_.size()) frequency_[model] = 0;
}

void GdsfPolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;
  keys_.resize(request.candidates.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Candidate& c = request.candidates[i];
    const double frequency = c.model < frequency_.size() ? static_cast<double>(frequency_[c.model]) : 0.0;
    const double size_gib = std::max(static_cast<double>(c.bytes), 1.0) / kBytesPerGiB;
    keys_[i] = inflation_ + frequency * c.load_seconds / size_gib;
  }
  const std::size_t first = victims.size();
  SelectLowestKeys(request.candidates, keys_, request.bytes_needed, order_, victims);
  // L rises to the largest priority evicted in this decision.
  for (std::size_t v = first; v < victims.size(); ++v) {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (request.candidates[i].model == victims[v]) inflation_ = std::max(inflation_, keys_[i]);
    }
  }
}

}  // namespace cace
