#include "lib/engine/host_cache.h"

#include <algorithm>

#include "fmt/format.h"

namespace cace {

std::string_view LoadTierName(LoadTier tier) {
  switch (tier) {
    case LoadTier::kDisk: return "disk";
    case LoadTier::kHostCache: return "host-cache";
  }
  return "unknown";
}

HostCache::Entry& HostCache::At(ModelHandle model) {
  if (model >= entries_.size()) entries_.resize(model + 1);
  return entries_[model];
}

bool HostCache::Contains(ModelHandle model) const {
  return model < entries_.size() && entries_[model].bytes > 0;
}

std::uint64_t HostCache::bytes(ModelHandle model) const {
  return model < entries_.size() ? entries_[model].bytes : 0;
}

absl::Status HostCache::Insert(ModelHandle model, std::uint64_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError(fmt::format("model {}: 0 bytes to cache", model));
  if (Contains(model)) return absl::AlreadyExistsError(fmt::format("model {} is already in the host cache", model));
  if (bytes > free_bytes()) {
    return absl::ResourceExhaustedError(fmt::format("model {} needs {} bytes of host cache, {} of {} free", model, bytes, free_bytes(), budget_bytes_));
  }
  At(model).bytes = bytes;
  used_bytes_ += bytes;
  order_.push_back(model);
  return absl::OkStatus();
}

absl::Status HostCache::Remove(ModelHandle model) {
  if (!Contains(model)) return absl::NotFoundError(fmt::format("model {} is not in the host cache", model));
  used_bytes_ -= entries_[model].bytes;
  entries_[model].bytes = 0;
  order_.erase(std::find(order_.begin(), order_.end(), model));
  return absl::OkStatus();
}

Seconds HostCache::LoadSeconds(ModelHandle model, Seconds estimate) const {
  if (model >= entries_.size() || entries_[model].load_samples == 0) return estimate;
  return entries_[model].load_seconds;
}

void HostCache::RecordLoad(ModelHandle model, Seconds measured, double smoothing) {
  Entry& e = At(model);
  e.load_seconds = e.load_samples == 0 ? measured : (1 - smoothing) * e.load_seconds + smoothing * measured;
  ++e.load_samples;
}

int HostCache::load_samples(ModelHandle model) const {
  return model < entries_.size() ? entries_[model].load_samples : 0;
}

void HostCache::RestoreLoad(ModelHandle model, Seconds seconds, int samples) {
  Entry& e = At(model);
  e.load_seconds = seconds;
  e.load_samples = samples;
}

}  // namespace cace
