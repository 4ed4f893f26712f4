// ModelRegistry: the catalogue of the models a host serves, as the host reads it: ids, files,
// bytes, residency state, pin, requests in flight and queued, last use.
//
// The catalogue is a read-only view. Its state has one owner, the serving core (lib/engine/), which
// makes every residency change and fires every policy hook; a host changes it only through the
// core's (or the Engine's) operations. The view is not thread-safe by itself: it is read on the
// thread that owns the core (the Engine serialises access at its boundary).
#ifndef CACE_MODEL_REGISTRY_H_
#define CACE_MODEL_REGISTRY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/types.h"

namespace cace {

enum class WeightFormat : std::uint8_t { kSafetensors, kGguf, kSimulated };

enum class ModelState : std::uint8_t { kAbsent, kLoading, kResident, kEvicting };
std::string_view ModelStateName(ModelState state);

// What a host tells cace about a model when adding it.
struct ModelSpec {
  std::string name;
  std::vector<std::string> files;
  WeightFormat format = WeightFormat::kSimulated;
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  // Load time before any measurement: the profiler's record, or an estimate from bandwidth.
  Seconds load_seconds = 0.0;
  // Load time from the host-memory cache of evicted weights before any measurement; 0: no
  // estimate, read as load_seconds (no cheaper than the disk).
  Seconds host_cache_load_seconds = 0.0;
};

// A model's catalogue entry (a copy).
struct ModelRecord {
  ModelHandle handle = 0;
  ModelSpec spec;
  ModelState state = ModelState::kAbsent;
  bool pinned = false;
  int priority = 0;                   // higher loads first (see lib/engine/serving_core.h)
  std::optional<Seconds> keep_alive;  // overrides the policy's idle timeout when set
  int in_flight = 0;                  // requests running on it
  int queued = 0;                     // requests waiting for it
  Seconds last_use = 0.0;
  Seconds load_seconds = 0.0;  // smoothed measurement (spec.load_seconds until the first one)
  int load_samples = 0;
  std::uint64_t kv_bytes = 0;  // KV cache bytes reserved by the model's running requests
  bool in_host_cache = false;  // absent from the compute pool, its weights kept in host memory
};

inline constexpr ModelHandle kNoModel = ~ModelHandle{0};

class ModelRegistry {
 public:
  virtual ~ModelRegistry() = default;
  // NotFound for a name or handle that is not (or no longer) in the catalogue.
  virtual absl::StatusOr<ModelHandle> Find(std::string_view name) const = 0;
  virtual absl::StatusOr<ModelRecord> Get(ModelHandle model) const = 0;
  // Every model in the catalogue, by handle.
  virtual std::vector<ModelRecord> Snapshot() const = 0;
  virtual std::size_t size() const = 0;
  // The memory budget that weights and KV caches of resident models share.
  virtual std::uint64_t capacity_bytes() const = 0;
  // Bytes held by models that are loading, resident or evicting (weights and KV caches).
  virtual std::uint64_t used_bytes() const = 0;
};

}  // namespace cace

#endif  // CACE_MODEL_REGISTRY_H_
