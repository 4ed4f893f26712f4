#include "cace/model_registry.h"

#include <utility>

#include "fmt/format.h"

namespace cace {

std::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kAbsent: return "absent";
    case ModelState::kLoading: return "loading";
    case ModelState::kResident: return "resident";
    case ModelState::kEvicting: return "evicting";
  }
  return "unknown";
}

namespace {

// Whether a model in this state holds memory.
bool HoldsMemory(ModelState state) { return state != ModelState::kAbsent; }

absl::Status WrongState(const ModelRecord& m, std::string_view action, ModelState expected) {
  return absl::FailedPreconditionError(fmt::format("cannot {} model '{}': it is {}, not {}", action, m.spec.name, ModelStateName(m.state), ModelStateName(expected)));
}

}  // namespace

ModelRegistry::ModelRegistry(std::uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

absl::StatusOr<ModelHandle> ModelRegistry::Register(ModelSpec spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("model name is empty");
  if (spec.weight_bytes == 0) {
    return absl::InvalidArgumentError(fmt::format("model '{}' has zero weight bytes", spec.name));
  }
  if (spec.weight_bytes > capacity_bytes_) {
    return absl::OutOfRangeError(fmt::format("model '{}' needs {} bytes, more than the whole capacity of {}", spec.name, spec.weight_bytes, capacity_bytes_));
  }
  if (spec.load_seconds < 0) {
    return absl::InvalidArgumentError(fmt::format("model '{}' has negative load time", spec.name));
  }
  absl::MutexLock lock(&mu_);
  if (by_name_.contains(spec.name)) {
    return absl::AlreadyExistsError(fmt::format("model '{}' is already registered", spec.name));
  }
  ModelRecord record;
  record.handle = static_cast<ModelHandle>(models_.size());
  record.load_seconds = spec.load_seconds;
  record.spec = std::move(spec);
  by_name_.emplace(record.spec.name, record.handle);
  models_.push_back(std::move(record));
  return models_.back().handle;
}

absl::StatusOr<ModelHandle> ModelRegistry::Find(std::string_view name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return absl::NotFoundError(fmt::format("unknown model '{}'", name));
  return it->second;
}

absl::StatusOr<ModelRecord> ModelRegistry::Get(ModelHandle model) const {
  absl::ReaderMutexLock lock(&mu_);
  if (model >= models_.size()) {
    return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  }
  return models_[model];
}

absl::StatusOr<ModelStatus> ModelRegistry::Inspect(ModelHandle model) const {
  absl::ReaderMutexLock lock(&mu_);
  if (model >= models_.size()) {
    return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  }
  const ModelRecord& m = models_[model];
  return ModelStatus{m.state,        m.pinned,          m.in_flight, m.last_use,
                     m.load_seconds, m.spec.weight_bytes, m.kv_bytes};
}

std::vector<ModelRecord> ModelRegistry::Snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return models_;
}

std::size_t ModelRegistry::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return models_.size();
}

std::uint64_t ModelRegistry::used_bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return UsedBytesLocked();
}

std::uint64_t ModelRegistry::UsedBytesLocked() const {
  std::uint64_t used = 0;
  for (const ModelRecord& m : models_) {
    if (HoldsMemory(m.state)) used += m.spec.weight_bytes + m.kv_bytes;
  }
  return used;
}

absl::StatusOr<ModelRecord*> ModelRegistry::Lookup(ModelHandle model) {
  if (model >= models_.size()) {
    return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  }
  return &models_[model];
}

absl::StatusOr<Reservation> ModelRegistry::ReserveRoom(EvictionPolicy& policy,
                                                      std::uint64_t bytes_needed, Seconds now,
                                                      const RoomOptions& options) {
  absl::MutexLock lock(&mu_);
  if (bytes_needed > capacity_bytes_) {
    return absl::OutOfRangeError(fmt::format("a request for {} bytes exceeds the whole capacity of {}", bytes_needed, capacity_bytes_));
  }
  const std::uint64_t used = UsedBytesLocked();
  const std::uint64_t free_bytes = capacity_bytes_ - std::min(used, capacity_bytes_);
  Reservation reservation;
  if (free_bytes >= bytes_needed) return reservation;

  std::vector<ResidentModel> residents;
  for (const ModelRecord& m : models_) {
    if (m.state != ModelState::kResident || m.handle == options.protect) continue;
    const Seconds drain = options.include_busy && m.handle < options.drain_seconds.size()
                              ? options.drain_seconds[m.handle]
                              : 0.0;
    residents.push_back(ResidentModel{
        Candidate{m.handle, m.spec.weight_bytes + m.kv_bytes, m.last_use, m.load_seconds, 0, drain},
        m.pinned, m.in_flight});
  }
  absl::Status planned =
      PlanEviction(policy, residents, bytes_needed - free_bytes, now, options.upcoming,
                   options.include_busy, scratch_candidates_, scratch_victims_);
  if (!planned.ok()) return planned;
  for (ModelHandle victim : scratch_victims_) {
    ModelRecord& m = models_[victim];
    m.state = ModelState::kEvicting;
    reservation.bytes_freed += m.spec.weight_bytes + m.kv_bytes;
    policy.OnEvict(victim, now);
  }
  reservation.victims = scratch_victims_;
  return reservation;
}

absl::Status ModelRegistry::BeginLoad(ModelHandle model) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kAbsent) return WrongState(**m, "load", ModelState::kAbsent);
  const std::uint64_t used = UsedBytesLocked();
  if (used + (*m)->spec.weight_bytes > capacity_bytes_) {
    return absl::ResourceExhaustedError(
        fmt::format("cannot load model '{}': it needs {} bytes and only {} are free; reserve room first", (*m)->spec.name, (*m)->spec.weight_bytes, capacity_bytes_ - std::min(used, capacity_bytes_)));
  }
  (*m)->state = ModelState::kLoading;
  return absl::OkStatus();
}

absl::Status ModelRegistry::FinishLoad(ModelHandle model, Seconds measured_load_seconds,
                                       Seconds now) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kLoading) {
    return WrongState(**m, "finish loading", ModelState::kLoading);
  }
  if (!(measured_load_seconds >= 0)) {
    return absl::InvalidArgumentError(fmt::format("negative load time for '{}'", (*m)->spec.name));
  }
  ModelRecord& r = **m;
  r.load_seconds = r.load_samples == 0 ? measured_load_seconds
                                       : (1 - kLoadSmoothing) * r.load_seconds +
                                             kLoadSmoothing * measured_load_seconds;
  ++r.load_samples;
  r.state = ModelState::kResident;
  r.last_use = std::max(r.last_use, now);
  return absl::OkStatus();
}

absl::Status ModelRegistry::AbortLoad(ModelHandle model) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kLoading) return WrongState(**m, "abort", ModelState::kLoading);
  (*m)->state = ModelState::kAbsent;
  return absl::OkStatus();
}

absl::Status ModelRegistry::BeginEviction(ModelHandle model) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kResident) return WrongState(**m, "evict", ModelState::kResident);
  if ((*m)->pinned) {
    return absl::FailedPreconditionError(fmt::format("model '{}' is pinned", (*m)->spec.name));
  }
  (*m)->state = ModelState::kEvicting;
  return absl::OkStatus();
}

absl::Status ModelRegistry::FinishEviction(ModelHandle model) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kEvicting) {
    return WrongState(**m, "finish evicting", ModelState::kEvicting);
  }
  if ((*m)->in_flight > 0) {
    return absl::FailedPreconditionError(fmt::format("model '{}' still has {} requests in flight", (*m)->spec.name, (*m)->in_flight));
  }
  (*m)->state = ModelState::kAbsent;
  (*m)->kv_bytes = 0;
  return absl::OkStatus();
}

absl::Status ModelRegistry::SetPinned(ModelHandle model, bool pinned) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  (*m)->pinned = pinned;
  return absl::OkStatus();
}

absl::Status ModelRegistry::BeginRequest(ModelHandle model, Seconds now) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kResident) {
    return WrongState(**m, "serve a request on", ModelState::kResident);
  }
  ++(*m)->in_flight;
  (*m)->last_use = now;
  return absl::OkStatus();
}

absl::Status ModelRegistry::EndRequest(ModelHandle model) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->in_flight == 0) {
    return absl::FailedPreconditionError(
        fmt::format("model '{}' has no request in flight to end", (*m)->spec.name));
  }
  --(*m)->in_flight;
  return absl::OkStatus();
}

absl::Status ModelRegistry::SetKvBytes(ModelHandle model, std::uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state == ModelState::kAbsent && bytes > 0) {
    return absl::FailedPreconditionError(
        fmt::format("model '{}' is absent and cannot hold a KV cache", (*m)->spec.name));
  }
  const std::uint64_t others = UsedBytesLocked() - (*m)->kv_bytes;
  if (others + bytes > capacity_bytes_) {
    return absl::ResourceExhaustedError(fmt::format("KV cache of {} bytes for '{}' does not fit the capacity", bytes, (*m)->spec.name));
  }
  (*m)->kv_bytes = bytes;
  return absl::OkStatus();
}

}  // namespace cace
