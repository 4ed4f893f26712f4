// The serving core's learned state, out to the state file and back after a restart.
#include "lib/engine/core_check.h"
#include "lib/engine/serving_core.h"

namespace cace {

using core_internal::Check;

std::vector<LearnedModel> ServingCore::ExportLearned(Seconds now) const {
  std::vector<LearnedModel> learned;
  for (ModelHandle m = 0; m < queues_.size(); ++m) {
    if (!table_.Contains(m)) continue;
    const ModelRecord& r = table_.record(m);
    LearnedModel model;
    model.name = r.spec.name;
    model.disk_load_seconds = r.load_seconds;
    model.disk_load_samples = static_cast<std::uint32_t>(r.load_samples);
    model.host_cache_load_samples = static_cast<std::uint32_t>(host_cache_.load_samples(m));
    model.host_cache_load_seconds = host_cache_.LoadSeconds(m, 0.0);
    model.usage = policy_.ExportUsage(m, now);
    learned.push_back(std::move(model));
  }
  return learned;
}

std::size_t ServingCore::RestoreLearned(std::span<const LearnedModel> learned, Seconds now) {
  std::size_t matched = 0;
  for (const LearnedModel& model : learned) {
    absl::StatusOr<ModelHandle> m = table_.Find(model.name);
    if (!m.ok()) continue;
    ++matched;
    // Only measured figures replace the registered estimates.
    if (model.disk_load_samples > 0) {
      Check(table_.RestoreLoadSeconds(*m, model.disk_load_seconds, static_cast<int>(model.disk_load_samples)));
    }
    if (model.host_cache_load_samples > 0) {
      host_cache_.RestoreLoad(*m, model.host_cache_load_seconds, static_cast<int>(model.host_cache_load_samples));
    }
    policy_.RestoreUsage(*m, model.usage, now);
  }
  return matched;
}

}  // namespace cace
