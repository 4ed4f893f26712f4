// HostCache: the second residency tier, a budgeted host-memory cache of weights evicted from the
// compute pool, so that a reload copies from memory instead of reading the disk. Plain state with
// one owner, the serving core, which decides what enters and leaves (lib/engine/serving_core.h);
// the bytes themselves are the driver's (the simulator only counts them).
//
// It holds which models sit in it and their bytes (never more than the budget), and each model's
// smoothed time to load from it, measured like the table's disk load times.
#ifndef CACE_LIB_ENGINE_HOST_CACHE_H_
#define CACE_LIB_ENGINE_HOST_CACHE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cace/types.h"

namespace cace {

// Where a load's bytes come from.
enum class LoadTier : std::uint8_t { kDisk, kHostCache };
std::string_view LoadTierName(LoadTier tier);  // "disk", "host-cache"

class HostCache {
 public:
  explicit HostCache(std::uint64_t budget_bytes) : budget_bytes_(budget_bytes) {}

  std::uint64_t budget_bytes() const { return budget_bytes_; }
  std::uint64_t used_bytes() const { return used_bytes_; }
  std::uint64_t free_bytes() const { return budget_bytes_ - used_bytes_; }
  // Whether a model of this size can ever sit in the cache (it fits the whole budget).
  bool Admits(std::uint64_t bytes) const { return bytes > 0 && bytes <= budget_bytes_; }
  bool Contains(ModelHandle model) const;
  std::uint64_t bytes(ModelHandle model) const;  // 0 when not cached
  // The cached models, in the order they entered.
  const std::vector<ModelHandle>& models() const { return order_; }

  // ResourceExhausted when the bytes do not fit beside the rest (the caller drops victims first),
  // AlreadyExists when cached, InvalidArgument for 0 bytes; nothing changes on an error.
  absl::Status Insert(ModelHandle model, std::uint64_t bytes);
  absl::Status Remove(ModelHandle model);  // NotFound when not cached

  // The time to load the model from the cache: the smoothed measurement, else `estimate`.
  Seconds LoadSeconds(ModelHandle model, Seconds estimate) const;
  // A load from the cache took `measured` seconds (smoothed as the table smooths disk loads).
  void RecordLoad(ModelHandle model, Seconds measured, double smoothing);
  // The smoothed measurement and how many loads made it (for the state file); none: 0 samples.
  int load_samples(ModelHandle model) const;
  void RestoreLoad(ModelHandle model, Seconds seconds, int samples);

 private:
  struct Entry {
    std::uint64_t bytes = 0;  // 0: not cached
    Seconds load_seconds = 0;
    int load_samples = 0;
  };
  Entry& At(ModelHandle model);

  const std::uint64_t budget_bytes_;
  std::uint64_t used_bytes_ = 0;
  std::vector<Entry> entries_;      // by model handle
  std::vector<ModelHandle> order_;  // cached models, oldest entry first
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_HOST_CACHE_H_
