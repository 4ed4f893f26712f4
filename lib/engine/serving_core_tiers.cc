// The serving core's tiers and prefetch: evicted weights kept in the host cache (and what leaves
// it), the reload cost each tier gives the policy and the load scheduler, and loads started
// unasked while the load path is idle. The rules are in serving_core.h; why, in the README.
#include <algorithm>

#include "fmt/format.h"
#include "lib/engine/core_check.h"
#include "lib/engine/serving_core.h"

namespace cace {

using core_internal::Check;

LoadTier ServingCore::TierOf(ModelHandle model) const {
  return host_cache_.Contains(model) ? LoadTier::kHostCache : LoadTier::kDisk;
}

Seconds ServingCore::CurrentLoadSeconds(ModelHandle model) const {
  const ModelRecord& r = table_.record(model);
  if (TierOf(model) == LoadTier::kDisk) return r.load_seconds;
  const Seconds estimate = r.spec.host_cache_load_seconds > 0 ? r.spec.host_cache_load_seconds : r.load_seconds;
  return host_cache_.LoadSeconds(model, estimate);
}

std::span<const Seconds> ServingCore::ReloadSecondsAfterEviction() {
  if (host_cache_.budget_bytes() == 0) return {};  // every reload is the disk's: the table's own
  reload_estimates_.assign(queues_.size(), 0.0);
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!table_.Contains(m)) continue;
    const ModelRecord& r = table_.record(m);
    if (!host_cache_.Admits(r.spec.weight_bytes)) {
      reload_estimates_[m] = r.load_seconds;
      continue;
    }
    const Seconds estimate = r.spec.host_cache_load_seconds > 0 ? r.spec.host_cache_load_seconds : r.load_seconds;
    reload_estimates_[m] = host_cache_.LoadSeconds(m, estimate);
  }
  return reload_estimates_;
}

void ServingCore::KeepInHostCache(ModelHandle model, Seconds now) {
  const std::uint64_t bytes = table_.record(model).spec.weight_bytes;
  if (!host_cache_.Admits(bytes)) {
    backend_.Unload(model);
    return;
  }
  if (host_cache_.free_bytes() < bytes) {
    // The policy ranks the cached models as it ranks resident ones; losing one from the cache
    // costs its disk reload. Neither a model copying out of the cache now nor one that requests
    // wait for (it is about to) is a candidate.
    std::vector<ResidentModel> cached;
    for (ModelHandle c : host_cache_.models()) {
      const ModelRecord& r = table_.record(c);
      if (r.state != ModelState::kAbsent || Wanted(c)) continue;
      cached.push_back(ResidentModel{Candidate{c, host_cache_.bytes(c), r.last_use, r.load_seconds, 0, 0}, false, 0});
    }
    std::vector<Candidate> scratch;
    std::vector<ModelHandle> victims;
    const absl::Status planned = PlanEviction(policy_, cached, bytes - host_cache_.free_bytes(), now,
                                              Upcoming(), false, scratch, victims);
    if (!planned.ok()) {
      if (planned.code() != absl::StatusCode::kResourceExhausted) Check(planned);  // a policy's bug
      backend_.Unload(model);  // the cache cannot make room now: back to the disk
      return;
    }
    for (ModelHandle victim : victims) DropFromHostCache(victim);
  }
  Check(host_cache_.Insert(model, bytes));
  ++counters_.host_cache_insertions;
  backend_.EvictToHostCache(model);
}

void ServingCore::DropFromHostCache(ModelHandle model) {
  Check(host_cache_.Remove(model));
  ++counters_.host_cache_drops;
  backend_.DropFromHostCache(model);
}

void ServingCore::FinishTieredLoad(ModelHandle model, Seconds measured_load_seconds, Seconds now) {
  // A load's end counts as a use, except a prefetch's that nothing waits for: it is a guess, and
  // to recency-ranking policies it would look like the most recently used model.
  const Seconds use = queues_[model].prefetched && !Wanted(model) ? table_.record(model).last_use : now;
  if (queues_[model].loading_from == LoadTier::kDisk) {
    Check(table_.FinishLoad(model, measured_load_seconds, use));
    return;
  }
  host_cache_.RecordLoad(model, measured_load_seconds, ResidencyTable::kLoadSmoothing);
  Check(table_.FinishLoad(model, std::nullopt, use));
  // The weights moved into the compute pool; the backend frees its host copy with the load.
  if (host_cache_.Contains(model)) Check(host_cache_.Remove(model));
}

bool ServingCore::PrefetchLoading() const {
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (queues_[m].prefetched && !Wanted(m) && table_.Contains(m) &&
        table_.record(m).state == ModelState::kLoading) {
      return true;
    }
  }
  return false;
}

bool ServingCore::CancelPrefetch() {
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    ModelQueue& q = queues_[m];
    if (!q.prefetched || Wanted(m) || !table_.Contains(m) || table_.record(m).state != ModelState::kLoading) {
      continue;
    }
    if (!backend_.CancelLoad(m)) return false;
    Check(table_.AbortLoad(m));
    loading_ = false;
    q.prefetched = false;
    q.prefetch_eligible = true;  // it may come back when the load path is idle again
    ++counters_.prefetches_cancelled;
    return true;
  }
  return false;
}

void ServingCore::MaybePrefetch(Seconds now) {
  if (!options_.prefetch || loading_ || next_load_ || !draining_.empty()) return;
  const std::uint64_t free_bytes = FreeBytes();
  prefetch_candidates_.clear();
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!table_.Contains(m) || !queues_[m].prefetch_eligible || Wanted(m)) continue;
    const ModelRecord& r = table_.record(m);
    if (r.state != ModelState::kAbsent || r.spec.weight_bytes > free_bytes) continue;
    prefetch_candidates_.push_back(Candidate{m, r.spec.weight_bytes, r.last_use, CurrentLoadSeconds(m), 0, 0});
  }
  if (prefetch_candidates_.empty()) return;
  const std::optional<ModelHandle> pick = policy_.PickPrefetch(prefetch_candidates_, now);
  if (!pick) return;
  if (std::none_of(prefetch_candidates_.begin(), prefetch_candidates_.end(),
                   [&](const Candidate& c) { return c.model == *pick; })) {
    Check(absl::InternalError(fmt::format("policy '{}' picked model {} to prefetch, not a candidate", policy_.name(), *pick)));
  }
  queues_[*pick].prefetched = true;
  ++counters_.prefetches;
  StartLoading(*pick, now);
}

}  // namespace cace
