// The serving core's invariant check: what its bookkeeping must satisfy after every event.
#include "lib/engine/serving_core.h"

#include <algorithm>
#include <string>

#include "fmt/format.h"

namespace cace {

absl::Status ServingCore::CheckInvariants() const {
  auto broken = [](std::string what) { return absl::InternalError("serving core invariant: " + what); };
  const std::uint64_t used = table_.used_bytes();
  if (used > table_.capacity_bytes()) {
    return broken(fmt::format("{} bytes held, more than the budget of {}", used, table_.capacity_bytes()));
  }
  if (promised_bytes_ > 0 && (!next_load_ || loading_)) {
    return broken(fmt::format("{} bytes promised with no load waiting for them", promised_bytes_));
  }
  std::uint64_t cached_bytes = 0;
  for (ModelHandle m : host_cache_.models()) {
    cached_bytes += host_cache_.bytes(m);
    if (!table_.Contains(m)) return broken(fmt::format("removed model {} is in the host cache", m));
    const ModelState state = table_.record(m).state;
    if (state != ModelState::kAbsent && !(state == ModelState::kLoading && queues_[m].loading_from == LoadTier::kHostCache)) {
      return broken(fmt::format("model '{}' is {} and in the host cache", table_.record(m).spec.name, ModelStateName(state)));
    }
  }
  if (cached_bytes != host_cache_.used_bytes() || cached_bytes > host_cache_.budget_bytes()) {
    return broken(fmt::format("host cache holds {} bytes, counts {}, budget {}", cached_bytes, host_cache_.used_bytes(), host_cache_.budget_bytes()));
  }
  int loading = 0;
  std::size_t waiting = 0, live = 0;
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const ModelQueue& q = queues_[m];
    waiting += q.waiting.size();
    live += q.waiting.size() + q.running.size();
    if (!table_.Contains(m)) {
      if (!q.waiting.empty() || !q.running.empty()) return broken(fmt::format("removed model {} has requests", m));
      continue;
    }
    const ModelRecord& r = table_.record(m);
    if (r.state == ModelState::kLoading) ++loading;
    if (q.prefetched && r.state != ModelState::kLoading && r.state != ModelState::kResident) {
      return broken(fmt::format("model '{}' is {} and marked prefetched", r.spec.name, ModelStateName(r.state)));
    }
    if (q.prefetch_eligible && r.state != ModelState::kAbsent) {
      return broken(fmt::format("model '{}' is {} and eligible for prefetch", r.spec.name, ModelStateName(r.state)));
    }
    if (r.in_flight != static_cast<int>(q.running.size())) {
      return broken(fmt::format("model '{}' counts {} in flight but runs {}", r.spec.name, r.in_flight, q.running.size()));
    }
    std::uint64_t kv = 0;
    for (const Held& h : q.running) kv += h.kv_bytes;
    if (kv != r.kv_bytes) {
      return broken(fmt::format("model '{}' holds {} KV bytes, its running requests reserve {}", r.spec.name, r.kv_bytes, kv));
    }
    if ((r.state == ModelState::kAbsent || r.state == ModelState::kLoading) && !q.running.empty()) {
      return broken(fmt::format("model '{}' is {} with {} requests running", r.spec.name, ModelStateName(r.state), q.running.size()));
    }
    if (r.pinned && r.state == ModelState::kEvicting) return broken(fmt::format("pinned model '{}' is being evicted", r.spec.name));
    if (q.preload_since && (r.state == ModelState::kLoading || r.state == ModelState::kResident)) {
      return broken(fmt::format("model '{}' is {} with a preload pending", r.spec.name, ModelStateName(r.state)));
    }
    const bool listed = std::find(draining_.begin(), draining_.end(), m) != draining_.end();
    if (listed != (r.state == ModelState::kEvicting && !q.running.empty())) {
      return broken(fmt::format("model '{}' draining list entry disagrees with its state", r.spec.name));
    }
    std::uint32_t by_kind = 0;
    for (std::uint32_t k : q.waiting_by_kind) by_kind += k;
    if (by_kind != q.waiting.size()) return broken(fmt::format("model '{}' waiting counts per kind disagree", r.spec.name));
    const bool in_ring = std::count(ring_.begin(), ring_.end(), m) == 1;
    if (in_ring != q.in_ring || q.in_ring != (!q.running.empty() && !q.stepping) ||
        std::count(ring_.begin(), ring_.end(), m) > 1) {
      return broken(fmt::format("model '{}' device ring entry disagrees with its batch", r.spec.name));
    }
  }
  if (loading != (loading_ ? 1 : 0)) return broken(fmt::format("{} models loading, one-at-a-time flag {}", loading, loading_));
  if (waiting != waiting_total_) return broken(fmt::format("{} waiting in queues, {} counted", waiting, waiting_total_));
  if (live != live_.size()) return broken(fmt::format("{} requests in queues, {} indexed by id", live, live_.size()));
  return absl::OkStatus();
}

}  // namespace cace
