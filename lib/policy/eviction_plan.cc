#include <algorithm>

#include "fmt/format.h"
#include "cace/eviction_policy.h"

namespace cace {

absl::Status PlanEviction(EvictionPolicy& policy, std::span<const ResidentModel> residents,
                          std::uint64_t bytes_needed, Seconds now,
                          std::span<const ModelHandle> upcoming, bool include_busy,
                          std::vector<Candidate>& scratch, std::vector<ModelHandle>& victims) {
  victims.clear();
  if (bytes_needed == 0) return absl::OkStatus();
  scratch.clear();
  std::uint64_t evictable = 0;
  for (const ResidentModel& resident : residents) {
    if (resident.pinned || (resident.in_flight > 0 && !include_busy)) continue;
    scratch.push_back(resident.candidate);
    scratch.back().in_flight = resident.in_flight;
    evictable += resident.candidate.bytes;
  }
  if (evictable < bytes_needed) {
    return absl::ResourceExhaustedError(
        fmt::format("cannot make room for {} bytes: the models that may be evicted (not pinned, no requests in flight) hold only {} bytes", bytes_needed, evictable));
  }
  policy.ChooseVictims(EvictionRequest{scratch, bytes_needed, now, upcoming}, victims);

  // Check the policy's answer: every victim a distinct candidate, and enough bytes freed.
  std::uint64_t freed = 0;
  for (std::size_t i = 0; i < victims.size(); ++i) {
    auto it = std::find_if(scratch.begin(), scratch.end(),
                           [&](const Candidate& c) { return c.model == victims[i]; });
    if (it == scratch.end()) {
      ModelHandle bad = victims[i];
      victims.clear();
      return absl::InternalError(fmt::format("policy '{}' named model {}, which is not an evictable candidate", policy.name(), bad));
    }
    if (std::find(victims.begin(), victims.begin() + static_cast<std::ptrdiff_t>(i), victims[i]) !=
        victims.begin() + static_cast<std::ptrdiff_t>(i)) {
      ModelHandle bad = victims[i];
      victims.clear();
      return absl::InternalError(
          fmt::format("policy '{}' named model {} twice", policy.name(), bad));
    }
    freed += it->bytes;
  }
  if (freed < bytes_needed) {
    victims.clear();
    return absl::InternalError(fmt::format("policy '{}' freed {} bytes of the {} needed", policy.name(), freed, bytes_needed));
  }
  return absl::OkStatus();
}

std::optional<ModelHandle> EvictionPolicy::PickPrefetch(std::span<const Candidate> absent,
                                                        Seconds /*now*/) {
  if (absent.empty()) return std::nullopt;
  const auto newest = std::max_element(absent.begin(), absent.end(),
                                       [](const Candidate& a, const Candidate& b) { return a.last_use < b.last_use; });
  return newest->model;
}

}  // namespace cace
