// The Engine's state file on the scheduler: what a previous run learned, applied to each model as
// it is added, and what this run learned, for the next one (lib/engine/state_file.h).
#include <algorithm>

#include "lib/engine/engine_scheduler.h"

namespace cace {

std::optional<LearnedModel> EngineScheduler::RestoredFor(const std::string& id, const std::string& path,
                                                         Seconds& load_estimate) const {
  // Load times belong to the bytes measured: a file changed since (size or modification time) is
  // measured again; what the policy learned of the model's use is kept.
  const absl::StatusOr<FileIdentity> identity = IdentifyModelFiles(path);
  const auto profile =
      !identity.ok() ? restored_.load_profiles.end()
                     : std::find_if(restored_.load_profiles.begin(), restored_.load_profiles.end(),
                                    [&](const LoadProfile& p) { return p.file.path == identity->path; });
  const bool unchanged = profile != restored_.load_profiles.end() && profile->file == *identity;
  if (unchanged && profile->load_seconds > 0) load_estimate = profile->load_seconds;
  const auto model = std::find_if(restored_.models.begin(), restored_.models.end(),
                                  [&](const LearnedModel& m) { return m.name == id; });
  if (model == restored_.models.end()) return std::nullopt;
  LearnedModel learned = *model;
  if (!unchanged) {
    learned.disk_load_samples = 0;
    learned.host_cache_load_samples = 0;
  }
  return learned;
}

LearnedState EngineScheduler::Learned() const {
  LearnedState state;
  for (LearnedModel& learned : core_->ExportLearned(Now())) {
    const absl::StatusOr<ModelHandle> handle = core_->registry().Find(learned.name);
    const ModelEntry& m = models_[*handle];  // exported, so registered
    if (learned.disk_load_samples > 0) {
      if (const absl::StatusOr<FileIdentity> identity = IdentifyModelFiles(m.files->path); identity.ok()) {
        const absl::StatusOr<ModelRecord> record = core_->registry().Get(*handle);
        state.load_profiles.push_back(LoadProfile{*identity, learned.disk_load_seconds, record->spec.weight_bytes,
                                                  record->spec.kv_bytes_per_token});
      }
    }
    state.models.push_back(std::move(learned));
  }
  // What the previous run knew of models and files this run did not add is carried on.
  for (const LearnedModel& old : restored_.models) {
    if (!core_->registry().Find(old.name).ok()) state.models.push_back(old);
  }
  for (const LoadProfile& old : restored_.load_profiles) {
    if (std::none_of(state.load_profiles.begin(), state.load_profiles.end(),
                     [&](const LoadProfile& p) { return p.file.path == old.file.path; })) {
      state.load_profiles.push_back(old);
    }
  }
  return state;
}

}  // namespace cace
