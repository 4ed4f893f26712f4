#include "lib/engine/serving_core.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "lib/engine/core_check.h"

namespace cace {

using core_internal::Check;
using core_internal::kNever;

std::uint64_t KvReservationBytes(std::uint32_t prompt_tokens, std::uint32_t max_tokens,
                                 std::uint64_t kv_bytes_per_token) {
  return (static_cast<std::uint64_t>(prompt_tokens) + max_tokens) * kv_bytes_per_token;
}

// The catalogue view: the table's records with the queue lengths the core keeps beside them.
class ServingCore::Catalogue final : public ModelRegistry {
 public:
  explicit Catalogue(const ServingCore& core) : core_(core) {}
  absl::StatusOr<ModelHandle> Find(std::string_view name) const override {
    return core_.table_.Find(name);
  }
  absl::StatusOr<ModelRecord> Get(ModelHandle model) const override {
    absl::StatusOr<ModelRecord> record = core_.table_.Get(model);
    if (record.ok()) Fill(*record);
    return record;
  }
  std::vector<ModelRecord> Snapshot() const override {
    std::vector<ModelRecord> records = core_.table_.Snapshot();
    for (ModelRecord& r : records) Fill(r);
    return records;
  }
  std::size_t size() const override { return core_.table_.size(); }
  std::uint64_t capacity_bytes() const override { return core_.table_.capacity_bytes(); }
  std::uint64_t used_bytes() const override { return core_.table_.used_bytes(); }

 private:
  void Fill(ModelRecord& r) const {
    r.queued = static_cast<int>(core_.queues_[r.handle].waiting.size());
    r.in_host_cache = core_.host_cache_.Contains(r.handle);
  }
  const ServingCore& core_;
};

ServingCore::ServingCore(std::uint64_t memory_budget_bytes, EvictionPolicy& policy,
                         const LoadScheduler& scheduler, ServingBackend& backend,
                         CoreOptions options)
    : table_(memory_budget_bytes),
      policy_(policy),
      scheduler_(scheduler),
      backend_(backend),
      options_(options),
      catalogue_(std::make_unique<Catalogue>(*this)),
      host_cache_(options.host_cache_bytes) {}

ServingCore::~ServingCore() = default;

const ModelRegistry& ServingCore::registry() const { return *catalogue_; }

// ---------------------------------------------------------------------------------------------
// Models

absl::StatusOr<ModelHandle> ServingCore::AddModel(ModelSpec spec) {
  absl::StatusOr<ModelHandle> handle = table_.Register(std::move(spec));
  if (!handle.ok()) return handle.status();
  queues_.emplace_back();
  policy_.OnRegister(*handle, table_.record(*handle).spec);
  return handle;
}

absl::Status ServingCore::RemoveModel(ModelHandle model, Seconds now) {
  if (!table_.Contains(model)) {
    return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  }
  const ModelRecord& m = table_.record(model);
  const ModelQueue& q = queues_[model];
  if (m.pinned) {
    return absl::FailedPreconditionError(fmt::format("cannot remove model '{}': it is pinned; unpin it first", m.spec.name));
  }
  if (!q.running.empty() || !q.waiting.empty()) {
    return absl::FailedPreconditionError(fmt::format("cannot remove model '{}': {} requests running and {} waiting; cancel them or wait until they end", m.spec.name, q.running.size(), q.waiting.size()));
  }
  if (m.state == ModelState::kLoading || m.state == ModelState::kEvicting) {
    return absl::FailedPreconditionError(fmt::format("cannot remove model '{}' while it is {}", m.spec.name, ModelStateName(m.state)));
  }
  if (m.state == ModelState::kResident) {
    Check(table_.BeginEviction(model));
    policy_.OnEvict(model, now);
    Check(table_.FinishEviction(model));
    backend_.Unload(model);
  }
  queues_[model].preload_since.reset();  // a pending preload goes with the model
  queues_[model].prefetch_eligible = false;
  if (host_cache_.Contains(model)) DropFromHostCache(model);
  Check(table_.Remove(model));
  AfterRoomFreed(now);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Requests

std::uint64_t ServingCore::PinnedWeightBytes(ModelHandle except) const {
  std::uint64_t pinned = 0;
  for (ModelHandle m = 0; m < table_.handle_count(); ++m) {
    if (m != except && table_.Contains(m) && table_.record(m).pinned) {
      pinned += table_.record(m).spec.weight_bytes;
    }
  }
  return pinned;
}

absl::Status ServingCore::CheckFits(ModelHandle model, std::uint64_t kv_bytes,
                                    ModelHandle pin_also) const {
  const ModelRecord& m = table_.record(model);
  const std::uint64_t capacity = table_.capacity_bytes();
  const std::uint64_t need = m.spec.weight_bytes + kv_bytes;
  if (need > capacity) {
    return absl::OutOfRangeError(fmt::format("a request needing {} bytes on model '{}' (weights {} + KV reservation {}) is larger than the memory budget of {} bytes", need, m.spec.name, m.spec.weight_bytes, kv_bytes, capacity));
  }
  std::uint64_t pinned = PinnedWeightBytes(model);
  if (pin_also != kNoModel && pin_also != model && !table_.record(pin_also).pinned) {
    pinned += table_.record(pin_also).spec.weight_bytes;
  }
  if (pinned + need > capacity) {
    return absl::FailedPreconditionError(fmt::format("a request needing {} bytes on model '{}' cannot fit beside the pinned models' {} bytes of weights (budget {}); unpin a model", need, m.spec.name, pinned, capacity));
  }
  return absl::OkStatus();
}

absl::Status ServingCore::Submit(const CoreRequest& request, Seconds now) {
  if (!table_.Contains(request.model)) {
    return absl::NotFoundError(fmt::format("request {} names unknown model handle {}", request.id, request.model));
  }
  if (request.max_tokens == 0) {
    return absl::InvalidArgumentError(fmt::format("request {} has max_tokens 0", request.id));
  }
  if (live_.contains(request.id)) {
    return absl::AlreadyExistsError(fmt::format("request {} is already being served", request.id));
  }
  const Held held{request, KvReservationBytes(request.prompt_tokens, request.max_tokens,
                                              table_.record(request.model).spec.kv_bytes_per_token)};
  if (absl::Status fits = CheckFits(request.model, held.kv_bytes, kNoModel); !fits.ok()) return fits;
  ModelQueue& q = queues_[request.model];
  if (options_.max_waiting > 0 && waiting_total_ >= options_.max_waiting) {
    return absl::ResourceExhaustedError(fmt::format("queue full: {} requests are waiting (max_waiting)", waiting_total_));
  }
  if (options_.max_waiting_per_model > 0 && q.waiting.size() >= options_.max_waiting_per_model) {
    return absl::ResourceExhaustedError(fmt::format("queue full: {} requests are waiting for model '{}' (max_waiting_per_model)", q.waiting.size(), table_.record(request.model).spec.name));
  }

  policy_.OnAccess(AccessEvent{request.model, request.kind, now});
  live_.emplace(request.id, request.model);
  if (q.waiting.empty() && TryAdmit(request.model, held, now)) return absl::OkStatus();
  if (q.waiting.empty()) q.loads_at_wait_start = counters_.loads;
  q.waiting.push_back(held);
  ++q.waiting_by_kind[KindIndex(request.kind)];
  ++waiting_total_;
  ScheduleLoads(now);
  return absl::OkStatus();
}

absl::Status ServingCore::Cancel(std::uint64_t request_id, Seconds now, const absl::Status& why) {
  if (why.ok()) return absl::InvalidArgumentError("Cancel needs a reason that is not OK");
  auto live = live_.find(request_id);
  if (live == live_.end()) {
    return absl::NotFoundError(fmt::format("request {} is neither waiting nor running", request_id));
  }
  const ModelHandle model = live->second;
  ModelQueue& q = queues_[model];
  const absl::Status cancelled(why.code(), fmt::format("request {}: {}", request_id, std::string(why.message())));
  ++counters_.cancelled;
  for (std::size_t i = 0; i < q.waiting.size(); ++i) {
    if (q.waiting[i].request.id != request_id) continue;
    const CoreRequest request = q.waiting[i].request;
    PopWaiting(model, i);
    EndRequest(request, cancelled);
    // The request behind it may fit where it did not; the load chosen for it may be unneeded.
    AfterRoomFreed(now);
    return absl::OkStatus();
  }
  for (std::size_t i = 0; i < q.running.size(); ++i) {
    if (q.running[i].request.id != request_id) continue;
    const CoreRequest request = q.running[i].request;
    backend_.StopRequest(request);
    ReleaseRunning(model, i);
    EndRequest(request, cancelled);
    FinishDrain(model, now);  // after the request's end: a backend hears of it before the unload
    AfterRoomFreed(now);
    return absl::OkStatus();
  }
  Check(absl::InternalError(fmt::format("request {} is live but in no queue", request_id)));
  return absl::OkStatus();
}

void ServingCore::EndImpossibleWaiting() {
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    ModelQueue& q = queues_[m];
    for (std::size_t i = 0; i < q.waiting.size();) {
      const absl::Status fits = CheckFits(m, q.waiting[i].kv_bytes, kNoModel);
      if (fits.ok()) {
        ++i;
        continue;
      }
      const CoreRequest request = q.waiting[i].request;
      PopWaiting(m, i);
      EndRequest(request, fits);
    }
  }
}

void ServingCore::EndRequest(const CoreRequest& request, const absl::Status& status) {
  live_.erase(request.id);
  backend_.RequestEnded(request, status);
}

void ServingCore::PopWaiting(ModelHandle model, std::size_t index) {
  ModelQueue& q = queues_[model];
  --q.waiting_by_kind[KindIndex(q.waiting[index].request.kind)];
  q.waiting.erase(q.waiting.begin() + static_cast<std::ptrdiff_t>(index));
  --waiting_total_;
}

std::uint64_t ServingCore::FreeBytes() const {
  const std::uint64_t used = table_.used_bytes();
  const std::uint64_t capacity = table_.capacity_bytes();
  const std::uint64_t free_bytes = capacity - std::min(used, capacity);
  return free_bytes - std::min(free_bytes, promised_bytes_);
}

bool ServingCore::TryAdmit(ModelHandle model, const Held& held, Seconds now) {
  ModelQueue& q = queues_[model];
  const ModelRecord& m = table_.record(model);
  if (m.state != ModelState::kResident ||
      q.running.size() >= static_cast<std::size_t>(options_.max_batch)) {
    return false;
  }
  if (held.kv_bytes > FreeBytes()) {
    // Room for the KV cache may come from idle models, never from this one.
    auto room = table_.ReserveRoom(policy_, held.kv_bytes + promised_bytes_, now,
                                   RoomOptions{Upcoming(), false, model, {}, ReloadSecondsAfterEviction()});
    // A prefetch holding the room gives way, then the policy chooses again.
    if (!room.ok() && CancelPrefetch()) return TryAdmit(model, held, now);
    if (!room.ok()) return false;
    TellPolicyEvicted(*room, now);
    for (ModelHandle victim : room->victims) Evict(victim, now);
  }
  Check(table_.SetKvBytes(model, m.kv_bytes + held.kv_bytes));
  Check(table_.BeginRequest(model, now));
  q.used_since_load = true;
  if (q.prefetched) {
    q.prefetched = false;
    ++counters_.prefetches_used;
  }
  q.running.push_back(held);
  backend_.StartRequest(held.request);
  JoinRing(model);
  return true;
}

void ServingCore::AdmitWaiting(ModelHandle model, Seconds now) {
  ModelQueue& q = queues_[model];
  while (!q.waiting.empty() && TryAdmit(model, q.waiting.front(), now)) PopWaiting(model, 0);
}

void ServingCore::ReleaseRunning(ModelHandle model, std::size_t index) {
  ModelQueue& q = queues_[model];
  const std::uint64_t kv = q.running[index].kv_bytes;
  Check(table_.EndRequest(model));
  q.running.erase(q.running.begin() + static_cast<std::ptrdiff_t>(index));
  const std::uint64_t held = table_.record(model).kv_bytes;
  Check(table_.SetKvBytes(model, held - std::min(held, kv)));
  if (q.running.empty() && q.in_ring) {
    q.in_ring = false;
    ring_.erase(std::find(ring_.begin(), ring_.end(), model));
  }
}

void ServingCore::FinishDrain(ModelHandle model, Seconds now) {
  if (!queues_[model].running.empty() || table_.record(model).state != ModelState::kEvicting) return;
  Evict(model, now);
  if (auto it = std::find(draining_.begin(), draining_.end(), model); it != draining_.end()) {
    draining_.erase(it);
  }
}

void ServingCore::AfterRoomFreed(Seconds now) {
  // The freed slot and memory may let resident models admit waiting requests, or a load start.
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!queues_[m].waiting.empty()) AdmitWaiting(m, now);
  }
  ScheduleLoads(now);
}

absl::Status ServingCore::OnRequestFinished(std::uint64_t request_id, std::uint32_t output_tokens,
                                            Seconds now) {
  auto live = live_.find(request_id);
  const ModelHandle model = live == live_.end() ? kNoModel : live->second;
  if (model == kNoModel) return absl::NotFoundError(fmt::format("request {} is not running", request_id));
  ModelQueue& q = queues_[model];
  auto it = std::find_if(q.running.begin(), q.running.end(),
                         [&](const Held& h) { return h.request.id == request_id; });
  if (it == q.running.end()) {
    return absl::NotFoundError(fmt::format("request {} is waiting, not running", request_id));
  }
  const CoreRequest request = it->request;
  ReleaseRunning(model, static_cast<std::size_t>(it - q.running.begin()));
  policy_.OnComplete(CompletionEvent{model, request.kind, now, output_tokens});
  EndRequest(request, absl::OkStatus());
  FinishDrain(model, now);  // after the request's end: a backend hears of it before the unload
  AfterRoomFreed(now);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// The device's rotation

void ServingCore::JoinRing(ModelHandle model) {
  ModelQueue& q = queues_[model];
  if (q.in_ring || q.stepping || q.running.empty()) return;
  q.in_ring = true;
  ring_.push_back(model);
}

std::optional<ModelHandle> ServingCore::PickModelToStep() {
  if (ring_.empty()) return std::nullopt;
  const ModelHandle model = ring_.front();
  ring_.pop_front();
  queues_[model].in_ring = false;
  queues_[model].stepping = true;
  return model;
}

absl::Status ServingCore::OnStepFinished(ModelHandle model, std::span<const FinishedRequest> finished,
                                         Seconds now) {
  if (model >= queues_.size() || !queues_[model].stepping) {
    return absl::FailedPreconditionError(fmt::format("model {} has no step running", model));
  }
  ModelQueue& q = queues_[model];
  q.stepping = false;
  std::size_t ending = 0;
  for (const FinishedRequest& f : finished) {
    ending += static_cast<std::size_t>(std::count_if(
        q.running.begin(), q.running.end(), [&](const Held& h) { return h.request.id == f.id; }));
  }
  // Its turn comes again after the models already waiting, before those its finished requests
  // let in.
  if (q.running.size() > ending) JoinRing(model);
  for (const FinishedRequest& f : finished) {
    absl::Status done = OnRequestFinished(f.id, f.output_tokens, now);
    if (!done.ok() && done.code() != absl::StatusCode::kNotFound) return done;  // NotFound: cancelled meanwhile
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Loads

absl::Status ServingCore::OnLoadFinished(ModelHandle model, Seconds now,
                                         Seconds measured_load_seconds,
                                         std::uint64_t measured_weight_bytes) {
  if (!table_.Contains(model) || table_.record(model).state != ModelState::kLoading) {
    return absl::FailedPreconditionError(fmt::format("model {} is not loading", model));
  }
  if (!(measured_load_seconds >= 0)) {
    return absl::InvalidArgumentError(fmt::format("negative load time for model {}", model));
  }
  if (measured_weight_bytes > 0) {
    if (absl::Status fits = table_.SetWeightBytes(model, measured_weight_bytes); !fits.ok()) {
      // It holds more than the room made for it: undo the load rather than overcommit.
      Check(table_.AbortLoad(model));
      loading_ = false;
      queues_[model].prefetched = false;
      ++counters_.failed_loads;
      backend_.Unload(model);
      FailWaiting(model, fits, now);
      return absl::OkStatus();
    }
    // Waiting requests that fitted the registered figure may not fit the measured one (theirs,
    // or, when the model is pinned, any model's beside it).
    EndImpossibleWaiting();
  }
  FinishTieredLoad(model, measured_load_seconds, now);
  policy_.OnLoad(model, now);
  loading_ = false;
  AdmitWaiting(model, now);
  ScheduleLoads(now);
  return absl::OkStatus();
}

absl::Status ServingCore::OnLoadFailed(ModelHandle model, const absl::Status& status, Seconds now) {
  if (status.ok()) return absl::InvalidArgumentError("OnLoadFailed needs the failure's status");
  if (!table_.Contains(model) || table_.record(model).state != ModelState::kLoading) {
    return absl::FailedPreconditionError(fmt::format("model {} is not loading", model));
  }
  Check(table_.AbortLoad(model));
  loading_ = false;
  queues_[model].prefetched = false;
  ++counters_.failed_loads;
  FailWaiting(model, status, now);
  return absl::OkStatus();
}

void ServingCore::FailWaiting(ModelHandle model, const absl::Status& status, Seconds now) {
  const absl::Status why(status.code(), fmt::format("loading model '{}' failed: {}", table_.record(model).spec.name, std::string(status.message())));
  ModelQueue& q = queues_[model];
  while (!q.waiting.empty()) {
    const CoreRequest request = q.waiting.front().request;
    PopWaiting(model, 0);
    EndRequest(request, why);
  }
  AfterRoomFreed(now);
}

void ServingCore::TellPolicyEvicted(const Reservation& reservation, Seconds now) {
  for (ModelHandle victim : reservation.victims) policy_.OnEvict(victim, now);
}

void ServingCore::Evict(ModelHandle model, Seconds now, bool for_room) {
  Check(table_.FinishEviction(model));
  ModelQueue& q = queues_[model];
  q.prefetch_eligible = for_room && !q.unload_ordered && q.used_since_load;
  q.prefetched = false;
  KeepInHostCache(model, now);  // the backend's Unload or EvictToHostCache
  ++(q.unload_ordered ? counters_.host_unloads : counters_.evictions);
  q.unload_ordered = false;
}

bool ServingCore::Wanted(ModelHandle model) const {
  return !queues_[model].waiting.empty() || queues_[model].preload_since.has_value();
}

std::uint64_t ServingCore::LoadNeed(ModelHandle model) const {
  // Its weights and the KV cache of its first waiting request, so that it can serve once loaded.
  const ModelQueue& q = queues_[model];
  return table_.record(model).spec.weight_bytes + (q.waiting.empty() ? 0 : q.waiting.front().kv_bytes);
}

void ServingCore::StartLoading(ModelHandle model, Seconds now) {
  if (drain_wait_since_) {
    counters_.drain_wait_seconds += now - *drain_wait_since_;
    drain_wait_since_.reset();
  }
  Check(table_.BeginLoad(model));
  loading_ = true;
  ++counters_.loads;
  ModelQueue& q = queues_[model];
  q.loads_at_wait_start = counters_.loads;
  q.preload_since.reset();
  q.used_since_load = false;
  q.prefetch_eligible = false;
  const std::uint64_t bytes = table_.record(model).spec.weight_bytes;
  counters_.bytes_loaded += bytes;
  q.loading_from = TierOf(model);
  if (q.loading_from == LoadTier::kHostCache) {
    ++counters_.host_cache_loads;
    counters_.host_cache_bytes_loaded += bytes;
  }
  backend_.StartLoadFrom(model, q.loading_from);
}

void ServingCore::ScheduleLoads(Seconds now) {
  if (next_load_ && !Wanted(*next_load_)) {
    // Every request it was chosen for has gone (cancelled): the promise goes with them.
    next_load_.reset();
    promised_bytes_ = 0;
    if (drain_wait_since_) {
      counters_.drain_wait_seconds += now - *drain_wait_since_;
      drain_wait_since_.reset();
    }
  }
  // A real load waiting preempts a prefetch of another model.
  if (PrefetchLoading() && (next_load_ || !WaitingForLoad().empty())) CancelPrefetch();
  while (!loading_) {
    ModelHandle model;
    if (next_load_) {
      model = *next_load_;
    } else {
      std::vector<WaitingModel>& waiting = WaitingForLoad();
      if (waiting.empty()) {
        MaybePrefetch(now);
        return;
      }
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
      const ModelRecord& r = table_.record(d);
      draining_bytes += r.spec.weight_bytes + r.kv_bytes;
    }
    next_load_ = model;
    promised_bytes_ = needed - std::min(needed, draining_bytes);
    if (!draining_.empty() && !drain_wait_since_) drain_wait_since_ = now;
  };
  if (!draining_.empty()) {  // room is already on its way
    promise_rest();
    return false;
  }
  auto idle = table_.ReserveRoom(policy_, needed, now,
                                 RoomOptions{Upcoming(), false, kNoModel, {}, ReloadSecondsAfterEviction()});
  if (idle.ok()) {
    TellPolicyEvicted(*idle, now);
    for (ModelHandle victim : idle->victims) Evict(victim, now);
    return true;
  }
  drain_estimates_.assign(queues_.size(), 0.0);
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!queues_[m].running.empty()) drain_estimates_[m] = backend_.DrainSeconds(m);
  }
  auto busy = table_.ReserveRoom(policy_, needed, now,
                                 RoomOptions{Upcoming(), true, kNoModel, drain_estimates_,
                                             ReloadSecondsAfterEviction()});
  if (!busy.ok()) {
    // Pinned models' KV caches, or a load or eviction in progress, hold the memory: wait until
    // something changes (Submit and SetPinned keep out requests the pinned weights alone block).
    promise_rest();
    return false;
  }
  TellPolicyEvicted(*busy, now);
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
      heads.emplace_back(waiting[i].request.arrival, m);
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
  int top_priority = std::numeric_limits<int>::min();
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!Wanted(m) || table_.record(m).state != ModelState::kAbsent) continue;
    top_priority = std::max(top_priority, table_.record(m).priority);
  }
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    const ModelQueue& q = queues_[m];
    if (!Wanted(m)) continue;
    const ModelRecord& r = table_.record(m);
    if (r.state != ModelState::kAbsent || r.priority != top_priority) continue;
    Seconds oldest = q.waiting.empty() ? kNever : q.waiting.front().request.arrival;
    if (q.preload_since) oldest = std::min(oldest, *q.preload_since);
    waiting_models_.push_back(WaitingModel{m, oldest, q.waiting_by_kind, CurrentLoadSeconds(m),
                                           counters_.loads - q.loads_at_wait_start});
  }
  return waiting_models_;
}

}  // namespace cace
