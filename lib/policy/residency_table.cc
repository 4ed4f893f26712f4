#include "lib/policy/residency_table.h"

#include <algorithm>
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

ResidencyTable::ResidencyTable(std::uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

absl::StatusOr<ModelHandle> ResidencyTable::Register(ModelSpec spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("model name is empty");
  if (spec.weight_bytes == 0) {
    return absl::InvalidArgumentError(fmt::format("model '{}' has zero weight bytes", spec.name));
  }
  if (spec.weight_bytes > capacity_bytes_) {
    return absl::OutOfRangeError(fmt::format("model '{}' needs {} bytes, more than the whole capacity of {}", spec.name, spec.weight_bytes, capacity_bytes_));
  }
  if (!(spec.load_seconds >= 0)) {
    return absl::InvalidArgumentError(fmt::format("model '{}' has negative load time", spec.name));
  }
  if (by_name_.contains(spec.name)) {
    return absl::AlreadyExistsError(fmt::format("model '{}' is already registered", spec.name));
  }
  ModelRecord record;
  record.handle = static_cast<ModelHandle>(models_.size());
  record.load_seconds = spec.load_seconds;
  record.spec = std::move(spec);
  by_name_.emplace(record.spec.name, record.handle);
  models_.push_back(std::move(record));
  removed_.push_back(false);
  return models_.back().handle;
}

absl::Status ResidencyTable::Remove(ModelHandle model) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kAbsent) return WrongState(**m, "remove", ModelState::kAbsent);
  if ((*m)->pinned) {
    return absl::FailedPreconditionError(fmt::format("cannot remove model '{}': it is pinned", (*m)->spec.name));
  }
  by_name_.erase((*m)->spec.name);
  removed_[model] = true;
  return absl::OkStatus();
}

bool ResidencyTable::Contains(ModelHandle model) const {
  return model < models_.size() && !removed_[model];
}

absl::StatusOr<ModelHandle> ResidencyTable::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return absl::NotFoundError(fmt::format("unknown model '{}'", name));
  return it->second;
}

absl::StatusOr<ModelRecord> ResidencyTable::Get(ModelHandle model) const {
  if (!Contains(model)) return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  return models_[model];
}

std::vector<ModelRecord> ResidencyTable::Snapshot() const {
  std::vector<ModelRecord> records;
  records.reserve(by_name_.size());
  for (ModelHandle m = 0; m < models_.size(); ++m) {
    if (!removed_[m]) records.push_back(models_[m]);
  }
  return records;
}

std::uint64_t ResidencyTable::used_bytes() const {
  std::uint64_t used = 0;
  for (const ModelRecord& m : models_) {
    if (HoldsMemory(m.state)) used += m.spec.weight_bytes + m.kv_bytes;
  }
  return used;
}

absl::StatusOr<ModelRecord*> ResidencyTable::Lookup(ModelHandle model) {
  if (!Contains(model)) return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  return &models_[model];
}

absl::StatusOr<Reservation> ResidencyTable::ReserveRoom(EvictionPolicy& policy,
                                                        std::uint64_t bytes_needed, Seconds now,
                                                        const RoomOptions& options) {
  if (bytes_needed > capacity_bytes_) {
    return absl::OutOfRangeError(fmt::format("a request for {} bytes exceeds the whole capacity of {}", bytes_needed, capacity_bytes_));
  }
  const std::uint64_t used = used_bytes();
  const std::uint64_t free_bytes = capacity_bytes_ - std::min(used, capacity_bytes_);
  Reservation reservation;
  if (free_bytes >= bytes_needed) return reservation;

  std::vector<ResidentModel> residents;
  for (const ModelRecord& m : models_) {
    if (m.state != ModelState::kResident || m.handle == options.protect) continue;
    const Seconds drain = options.include_busy && m.handle < options.drain_seconds.size()
                              ? options.drain_seconds[m.handle]
                              : 0.0;
    const Seconds reload = m.handle < options.reload_seconds.size() ? options.reload_seconds[m.handle]
                                                                   : m.load_seconds;
    residents.push_back(ResidentModel{
        Candidate{m.handle, m.spec.weight_bytes + m.kv_bytes, m.last_use, reload, 0, drain},
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
  }
  reservation.victims = scratch_victims_;
  return reservation;
}

absl::Status ResidencyTable::BeginLoad(ModelHandle model) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kAbsent) return WrongState(**m, "load", ModelState::kAbsent);
  const std::uint64_t used = used_bytes();
  if (used + (*m)->spec.weight_bytes > capacity_bytes_) {
    return absl::ResourceExhaustedError(
        fmt::format("cannot load model '{}': it needs {} bytes and only {} are free; reserve room first", (*m)->spec.name, (*m)->spec.weight_bytes, capacity_bytes_ - std::min(used, capacity_bytes_)));
  }
  (*m)->state = ModelState::kLoading;
  return absl::OkStatus();
}

absl::Status ResidencyTable::FinishLoad(ModelHandle model,
                                        std::optional<Seconds> measured_load_seconds, Seconds now) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kLoading) {
    return WrongState(**m, "finish loading", ModelState::kLoading);
  }
  if (measured_load_seconds && !(*measured_load_seconds >= 0)) {
    return absl::InvalidArgumentError(fmt::format("negative load time for '{}'", (*m)->spec.name));
  }
  ModelRecord& r = **m;
  if (measured_load_seconds) {
    r.load_seconds = r.load_samples == 0 ? *measured_load_seconds
                                         : (1 - kLoadSmoothing) * r.load_seconds +
                                               kLoadSmoothing * *measured_load_seconds;
    ++r.load_samples;
  }
  r.state = ModelState::kResident;
  r.last_use = std::max(r.last_use, now);
  return absl::OkStatus();
}

absl::Status ResidencyTable::RestoreLoadSeconds(ModelHandle model, Seconds seconds, int samples) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if (!(seconds >= 0) || samples < 0) {
    return absl::InvalidArgumentError(fmt::format("bad load time {} ({} samples) for '{}'", seconds, samples, (*m)->spec.name));
  }
  (*m)->load_seconds = seconds;
  (*m)->load_samples = samples;
  return absl::OkStatus();
}

absl::Status ResidencyTable::AbortLoad(ModelHandle model) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kLoading) return WrongState(**m, "abort", ModelState::kLoading);
  (*m)->state = ModelState::kAbsent;
  return absl::OkStatus();
}

absl::Status ResidencyTable::BeginEviction(ModelHandle model) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kResident) return WrongState(**m, "evict", ModelState::kResident);
  if ((*m)->pinned) {
    return absl::FailedPreconditionError(fmt::format("model '{}' is pinned", (*m)->spec.name));
  }
  (*m)->state = ModelState::kEvicting;
  return absl::OkStatus();
}

absl::Status ResidencyTable::FinishEviction(ModelHandle model) {
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

absl::Status ResidencyTable::SetPinned(ModelHandle model, bool pinned) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if (pinned && (*m)->state == ModelState::kEvicting) {
    return absl::FailedPreconditionError(fmt::format("cannot pin model '{}': it is being evicted; pin it once it is absent or reloaded", (*m)->spec.name));
  }
  (*m)->pinned = pinned;
  return absl::OkStatus();
}

absl::Status ResidencyTable::SetWeightBytes(ModelHandle model, std::uint64_t bytes) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if (bytes == 0) {
    return absl::InvalidArgumentError(fmt::format("model '{}' cannot hold zero weight bytes", (*m)->spec.name));
  }
  const std::uint64_t own = HoldsMemory((*m)->state) ? (*m)->spec.weight_bytes : 0;
  const std::uint64_t others = used_bytes() - own;
  const std::uint64_t would_hold = HoldsMemory((*m)->state) ? bytes + (*m)->kv_bytes : 0;
  if (bytes > capacity_bytes_ || others + would_hold > capacity_bytes_) {
    return absl::ResourceExhaustedError(fmt::format("model '{}' holds {} bytes of weights ({} registered); with the {} bytes held beside it they exceed the capacity of {}", (*m)->spec.name, bytes, (*m)->spec.weight_bytes, others, capacity_bytes_));
  }
  (*m)->spec.weight_bytes = bytes;
  return absl::OkStatus();
}

absl::Status ResidencyTable::SetPriority(ModelHandle model, int priority) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  (*m)->priority = priority;
  return absl::OkStatus();
}

absl::Status ResidencyTable::SetKeepAlive(ModelHandle model, std::optional<Seconds> keep_alive) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if (keep_alive && !(*keep_alive >= 0)) {
    return absl::InvalidArgumentError(fmt::format("negative keep-alive for model '{}'", (*m)->spec.name));
  }
  (*m)->keep_alive = keep_alive;
  return absl::OkStatus();
}

absl::Status ResidencyTable::BeginRequest(ModelHandle model, Seconds now) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state != ModelState::kResident) {
    return WrongState(**m, "serve a request on", ModelState::kResident);
  }
  ++(*m)->in_flight;
  (*m)->last_use = now;
  return absl::OkStatus();
}

absl::Status ResidencyTable::EndRequest(ModelHandle model) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->in_flight == 0) {
    return absl::FailedPreconditionError(
        fmt::format("model '{}' has no request in flight to end", (*m)->spec.name));
  }
  --(*m)->in_flight;
  return absl::OkStatus();
}

absl::Status ResidencyTable::SetKvBytes(ModelHandle model, std::uint64_t bytes) {
  absl::StatusOr<ModelRecord*> m = Lookup(model);
  if (!m.ok()) return m.status();
  if ((*m)->state == ModelState::kAbsent && bytes > 0) {
    return absl::FailedPreconditionError(
        fmt::format("model '{}' is absent and cannot hold a KV cache", (*m)->spec.name));
  }
  const std::uint64_t others = used_bytes() - (*m)->kv_bytes;
  if (others + bytes > capacity_bytes_) {
    return absl::ResourceExhaustedError(fmt::format("KV cache of {} bytes for '{}' does not fit the capacity", bytes, (*m)->spec.name));
  }
  (*m)->kv_bytes = bytes;
  return absl::OkStatus();
}

}  // namespace cace
