// The serving core's per-model controls: keep-alive timers, preload and unload, pin, priority.
#include "lib/engine/serving_core.h"

#include <algorithm>
#include <string>

#include "fmt/format.h"
#include "lib/engine/core_check.h"

namespace cace {

using core_internal::Check;
using core_internal::kNever;

Seconds ServingCore::KeepAlive(ModelHandle model) const {
  const std::optional<Seconds>& own = table_.record(model).keep_alive;
  return own ? *own : policy_.IdleTimeout(model);
}

Seconds ServingCore::NextTimer() const {
  Seconds next = kNever;
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!table_.Contains(m) || !queues_[m].running.empty()) continue;
    const Seconds timeout = KeepAlive(m);
    if (timeout == kNever) continue;
    const ModelRecord& r = table_.record(m);
    if (r.state != ModelState::kResident || r.pinned) continue;
    next = std::min(next, r.last_use + timeout);
  }
  return next;
}

void ServingCore::OnTimer(Seconds now) {
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!table_.Contains(m) || !queues_[m].running.empty()) continue;
    const Seconds timeout = KeepAlive(m);
    if (timeout == kNever) continue;
    const ModelRecord& r = table_.record(m);
    if (r.state != ModelState::kResident || r.pinned || r.last_use + timeout > now) continue;
    Check(table_.BeginEviction(m));
    policy_.OnEvict(m, now);
    Evict(m, now, /*for_room=*/false);
  }
  ScheduleLoads(now);
}

absl::Status ServingCore::Preload(ModelHandle model, Seconds now) {
  if (!table_.Contains(model)) return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  const ModelState state = table_.record(model).state;
  if (state == ModelState::kLoading || state == ModelState::kResident) return absl::OkStatus();
  ModelQueue& q = queues_[model];
  if (!q.preload_since) {
    if (!Wanted(model)) q.loads_at_wait_start = counters_.loads;
    q.preload_since = now;
  }
  ScheduleLoads(now);
  return absl::OkStatus();
}

absl::Status ServingCore::Unload(ModelHandle model, Seconds now) {
  if (!table_.Contains(model)) return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  const ModelRecord& m = table_.record(model);
  ModelQueue& q = queues_[model];
  if (m.pinned) {
    return absl::FailedPreconditionError(fmt::format("cannot unload model '{}': it is pinned; unpin it first", m.spec.name));
  }
  if (m.state == ModelState::kLoading) {
    return absl::FailedPreconditionError(fmt::format("cannot unload model '{}' while it loads", m.spec.name));
  }
  q.preload_since.reset();
  if (m.state == ModelState::kResident) {
    Check(table_.BeginEviction(model));
    policy_.OnEvict(model, now);
    q.unload_ordered = true;
    if (q.running.empty()) {
      Evict(model, now);
    } else {
      draining_.push_back(model);
    }
  }
  AfterRoomFreed(now);
  return absl::OkStatus();
}

absl::Status ServingCore::SetPinned(ModelHandle model, bool pinned, Seconds now) {
  if (!table_.Contains(model)) return absl::NotFoundError(fmt::format("unknown model handle {}", model));
  const ModelRecord& m = table_.record(model);
  if (pinned && !m.pinned) {
    if (m.state == ModelState::kEvicting) {
      return absl::FailedPreconditionError(fmt::format("cannot pin model '{}': it is being evicted; pin it once it is absent or reloaded", m.spec.name));
    }
    if (PinnedWeightBytes(model) + m.spec.weight_bytes > table_.capacity_bytes()) {
      return absl::FailedPreconditionError(fmt::format("cannot pin model '{}': the pinned models' weights would exceed the memory budget", m.spec.name));
    }
    for (ModelHandle w = 0; w < queues_.size(); ++w) {
      for (const Held& held : queues_[w].waiting) {
        if (absl::Status fits = CheckFits(w, held.kv_bytes, model); !fits.ok()) {
          return absl::FailedPreconditionError(fmt::format("cannot pin model '{}': waiting request {} could then never run ({})", m.spec.name, held.request.id, std::string(fits.message())));
        }
      }
    }
  }
  Check(table_.SetPinned(model, pinned));
  if (!pinned) AfterRoomFreed(now);
  return absl::OkStatus();
}

absl::Status ServingCore::SetPriority(ModelHandle model, int priority, Seconds now) {
  if (absl::Status s = table_.SetPriority(model, priority); !s.ok()) return s;
  ScheduleLoads(now);
  return absl::OkStatus();
}

absl::Status ServingCore::SetKeepAlive(ModelHandle model, std::optional<Seconds> keep_alive) {
  return table_.SetKeepAlive(model, keep_alive);
}

}  // namespace cace
