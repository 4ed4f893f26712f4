#include <algorithm>
#include <limits>

#include "lib/policy/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

OraclePolicy::OraclePolicy(std::vector<ModelHandle> future_requests)
    : future_(std::move(future_requests)) {
  for (std::uint64_t i = 0; i < future_.size(); ++i) {
    const ModelHandle m = future_[i];
    if (m >= positions_.size()) positions_.resize(m + 1);
    positions_[m].push_back(i);
  }
  next_.assign(positions_.size(), 0);
}

void OraclePolicy::OnAccess(const AccessEvent& event) {
  // Requests arrive in the order given; each one moves its model's pointer past itself.
  if (event.model < next_.size() && next_[event.model] < positions_[event.model].size() &&
      positions_[event.model][next_[event.model]] <= cursor_) {
    ++next_[event.model];
  }
  ++cursor_;
}

std::uint64_t OraclePolicy::NextUse(ModelHandle model) const {
  if (model >= positions_.size()) return std::numeric_limits<std::uint64_t>::max();
  const std::vector<std::uint64_t>& p = positions_[model];
  // The pointer may lag when requests were skipped; positions before the cursor are past.
  auto it = std::lower_bound(p.begin() + static_cast<std::ptrdiff_t>(next_[model]), p.end(), cursor_);
  return it == p.end() ? std::numeric_limits<std::uint64_t>::max() : *it;
}

void OraclePolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  keys_.resize(request.candidates.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Candidate& c = request.candidates[i];
    const std::uint64_t next = NextUse(c.model);
    if (next == std::numeric_limits<std::uint64_t>::max()) {
      // Never needed again: evict first, the most expensive first (it frees most per request).
      keys_[i] = -std::numeric_limits<double>::max() / 2 - c.load_seconds;
      continue;
    }
    // Lower key = evicted first: a far next use per second of reload cost.
    const double distance = static_cast<double>(next - cursor_ + 1);
    keys_[i] = -distance / std::max(c.load_seconds, 1e-9);
  }
  SelectLowestKeys(request.candidates, keys_, request.bytes_needed, order_, victims);
}

std::optional<ModelHandle> OraclePolicy::PickPrefetch(std::span<const Candidate> absent, Seconds /*now*/) {
  std::optional<ModelHandle> soonest;
  std::uint64_t soonest_use = std::numeric_limits<std::uint64_t>::max();
  for (const Candidate& c : absent) {
    const std::uint64_t next = NextUse(c.model);
    if (next < soonest_use) soonest_use = next, soonest = c.model;
  }
  return soonest;
}

}  // namespace cace
