#include "lib/engine/serving_core.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace cace {

namespace {

// The core's calls into the registry follow its own state machine, so a failure is a bug in the
// core: fail loudly rather than serve on from a state nobody expects.
void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "cace serving core: %s\n", std::string(status.message()).c_str());
    std::abort();
  }
}

template <typename T>
T Checked(absl::StatusOr<T> value) {
  Check(value.status());
  return *std::move(value);
}

}  // namespace

ServingCore::ServingCore(ModelRegistry& registry, EvictionPolicy& policy,
                         const LoadScheduler& scheduler, ServingBackend& backend,
                         CoreOptions options)
    : registry_(registry),
      policy_(policy),
      scheduler_(scheduler),
      backend_(backend),
      options_(options),
      queues_(registry.size()) {}

void ServingCore::Submit(const CoreRequest& request, Seconds now) {
  policy_.OnAccess(AccessEvent{request.model, request.kind, now});
  ModelQueue& q = queues_[request.model];
  if (q.waiting.empty() && TryAdmit(request.model, request, now)) return;
  if (q.waiting.empty()) q.loads_at_wait_start = counters_.loads;
  q.waiting.push_back(request);
  ++q.waiting_by_kind[KindIndex(request.kind)];
  ++waiting_total_;
  ScheduleLoads(now);
}

void ServingCore::OnModelAdded(ModelHandle model) {
  if (model >= queues_.size()) queues_.resize(model + 1);
}

bool ServingCore::Cancel(const CoreRequest& request, Seconds now) {
  ModelQueue& q = queues_[request.model];
  auto it = std::find_if(q.waiting.begin(), q.waiting.end(), [&](const CoreRequest& r) { return r.id == request.id; });
  if (it == q.waiting.end()) return false;
  --q.waiting_by_kind[KindIndex(it->kind)];
  q.waiting.erase(it);
  --waiting_total_;
  if (next_load_ == request.model && q.waiting.empty()) {
    next_load_.reset();
    promised_bytes_ = 0;
  }
  ScheduleLoads(now);
  return true;
}

void ServingCore::OnLoadFailed(ModelHandle model, Seconds now) {
  Check(registry_.AbortLoad(model));
  loading_ = false;
  ScheduleLoads(now);
}

std::uint64_t ServingCore::FreeBytes() const {
  const std::uint64_t used = registry_.used_bytes();
  const std::uint64_t capacity = registry_.capacity_bytes();
  const std::uint64_t free_bytes = capacity - std::min(used, capacity);
  return free_bytes - std::min(free_bytes, promised_bytes_);
}

bool ServingCore::TryAdmit(ModelHandle model, const CoreRequest& request, Seconds now) {
  ModelQueue& q = queues_[model];
  const ModelStatus status = Checked(registry_.Inspect(model));
  if (status.state != ModelState::kResident ||
      q.running.size() >= static_cast<std::size_t>(options_.max_batch)) {
    return false;
  }
  if (request.kv_bytes > FreeBytes()) {
    // Room for the KV cache may come from idle models, never from this one.
    auto room = registry_.ReserveRoom(policy_, request.kv_bytes + promised_bytes_, now,
                                      RoomOptions{Upcoming(), false, model});
    if (!room.ok()) return false;
    for (ModelHandle victim : room->victims) Evict(victim, now);
  }
  Check(registry_.SetKvBytes(model, status.kv_bytes + request.kv_bytes));
  Check(registry_.BeginRequest(model, now));
  q.running.push_back(request);
  backend_.StartRequest(request);
  return true;
}

void ServingCore::AdmitWaiting(ModelHandle model, Seconds now) {
  ModelQueue& q = queues_[model];
  while (!q.waiting.empty() && TryAdmit(model, q.waiting.front(), now)) {
    --q.waiting_by_kind[KindIndex(q.waiting.front().kind)];
    q.waiting.pop_front();
    --waiting_total_;
  }
}

void ServingCore::OnLoadFinished(ModelHandle model, Seconds now, Seconds measured_load_seconds) {
  Check(registry_.FinishLoad(model, measured_load_seconds, now));
  policy_.OnLoad(model, now);
  loading_ = false;
  AdmitWaiting(model, now);
  ScheduleLoads(now);
}

void ServingCore::OnRequestFinished(const CoreRequest& request, std::uint32_t output_tokens,
                                    Seconds now) {
  const ModelHandle model = request.model;
  ModelQueue& q = queues_[model];
  Check(registry_.EndRequest(model));
  std::erase_if(q.running, [&](const CoreRequest& r) { return r.id == request.id; });
  const ModelStatus status = Checked(registry_.Inspect(model));
  Check(registry_.SetKvBytes(model, status.kv_bytes - std::min(status.kv_bytes, request.kv_bytes)));
  policy_.OnComplete(CompletionEvent{model, request.kind, now, output_tokens});

  if (status.state == ModelState::kEvicting && q.running.empty()) {
    Evict(model, now);
    if (auto it = std::find(draining_.begin(), draining_.end(), model); it != draining_.end()) {
      draining_.erase(it);
    }
  }
  // The freed slot and KV room may let this or another resident model admit waiting requests.
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!queues_[m].waiting.empty()) AdmitWaiting(m, now);
  }
  ScheduleLoads(now);
}

void ServingCore::Evict(ModelHandle model, Seconds /*now*/) {
  Check(registry_.FinishEviction(model));
  backend_.Unload(model);
  ++counters_.evictions;
}

std::uint64_t ServingCore::LoadNeed(ModelHandle model) const {
  // Its weights and the KV cache of its first waiting request, so that it can serve once loaded.
  return Checked(registry_.Inspect(model)).weight_bytes + queues_[model].waiting.front().kv_bytes;
}

void ServingCore::StartLoading(ModelHandle model, Seconds now) {
  if (drain_wait_since_) {
    counters_.drain_wait_seconds += now - *drain_wait_since_;
    drain_wait_since_.reset();
  }
  Check(registry_.BeginLoad(model));
  loading_ = true;
  ++counters_.loads;
  queues_[model].loads_at_wait_start = counters_.loads;
  counters_.bytes_loaded += Checked(registry_.Inspect(model)).weight_bytes;
  backend_.StartLoad(model);
}

void ServingCore::ScheduleLoads(Seconds now) {
  while (!loading_) {
    ModelHandle model;
    if (next_load_) {
      model = *next_load_;
    } else {
      std::vector<WaitingModel>& waiting = WaitingForLoad();
      if (waiting.empty()) return;
      model = waiting[scheduler_.PickNext(waiting, now)].model;
    }
    const std::uint64_t needed = LoadNeed(model);
    promised_bytes_ = 0;
    if (FreeBytes() >= needed) {
      next_load_.reset();
      StartLoading(model, now);
      return;
    }
    if (!MakeRoomForLoad(model, needed, now)) return;
  }
}

bool ServingCore::MakeRoomForLoad(ModelHandle model, std::uint64_t needed, Seconds now) {
  auto promise_rest = [&] {
    // Drains will free their models' bytes; what else the load needs is kept from KV growth.
    std::uint64_t draining_bytes = 0;
    for (ModelHandle d : draining_) {
      const ModelStatus s = Checked(registry_.Inspect(d));
      draining_bytes += s.weight_bytes + s.kv_bytes;
    }
    next_load_ = model;
    promised_bytes_ = needed - std::min(needed, draining_bytes);
    if (!draining_.empty() && !drain_wait_since_) drain_wait_since_ = now;
  };
  if (!draining_.empty()) {  // room is already on its way
    promise_rest();
    return false;
  }
  auto idle = registry_.ReserveRoom(policy_, needed, now, RoomOptions{Upcoming(), false, kNoModel});
  if (idle.ok()) {
    for (ModelHandle victim : idle->victims) Evict(victim, now);
    return true;
  }
  drain_estimates_.assign(queues_.size(), 0.0);
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!queues_[m].running.empty()) drain_estimates_[m] = backend_.DrainSeconds(m);
  }
  auto busy = registry_.ReserveRoom(policy_, needed, now,
                                    RoomOptions{Upcoming(), true, kNoModel, drain_estimates_});
  if (!busy.ok()) {
    // Pinned models hold the memory: wait until something changes.
    promise_rest();
    return false;
  }
  for (ModelHandle victim : busy->victims) {
    if (queues_[victim].running.empty()) {
      Evict(victim, now);
    } else {
      draining_.push_back(victim);
      ++counters_.drains;
    }
  }
  if (draining_.empty()) return true;
  promise_rest();
  return false;
}

std::vector<ModelHandle>& ServingCore::Upcoming() {
  // The oldest waiting requests across all queues, by arrival.
  std::vector<std::pair<Seconds, ModelHandle>> heads;
  const std::size_t window = static_cast<std::size_t>(options_.upcoming_window);
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const auto& waiting = queues_[m].waiting;
    for (std::size_t i = 0; i < std::min(window, waiting.size()); ++i) {
      heads.emplace_back(waiting[i].arrival, m);
    }
  }
  const std::size_t keep = std::min(window, heads.size());
  std::partial_sort(heads.begin(), heads.begin() + static_cast<std::ptrdiff_t>(keep), heads.end());
  upcoming_.clear();
  for (std::size_t i = 0; i < keep; ++i) upcoming_.push_back(heads[i].second);
  return upcoming_;
}

std::vector<WaitingModel>& ServingCore::WaitingForLoad() {
  waiting_models_.clear();
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const ModelQueue& q = queues_[m];
    if (q.waiting.empty()) continue;
    const ModelStatus status = Checked(registry_.Inspect(m));
    if (status.state != ModelState::kAbsent) continue;
    waiting_models_.push_back(WaitingModel{m, q.waiting.front().arrival, q.waiting_by_kind,
                                           status.load_seconds,
                                           counters_.loads - q.loads_at_wait_start});
  }
  return waiting_models_;
}

Seconds ServingCore::NextTimer() const {
  Seconds next = std::numeric_limits<Seconds>::infinity();
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const Seconds timeout = policy_.IdleTimeout(m);
    if (timeout == std::numeric_limits<Seconds>::infinity() || !queues_[m].running.empty()) continue;
    const ModelStatus status = Checked(registry_.Inspect(m));
    if (status.state != ModelState::kResident || status.pinned) continue;
    next = std::min(next, status.last_use + timeout);
  }
  return next;
}

void ServingCore::OnTimer(Seconds now) {
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const Seconds timeout = policy_.IdleTimeout(m);
    if (timeout == std::numeric_limits<Seconds>::infinity() || !queues_[m].running.empty()) continue;
    const ModelStatus status = Checked(registry_.Inspect(m));
    if (status.state != ModelState::kResident || status.pinned || status.last_use + timeout > now) {
      continue;
    }
    Check(registry_.BeginEviction(m));
    policy_.OnEvict(m, now);
    Evict(m, now);
  }
  ScheduleLoads(now);
}

}  // namespace cace
