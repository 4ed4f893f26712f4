// ModelRegistry: the thread-safe catalogue of the models a host serves, and the one place where
// residency changes (absent -> loading -> resident -> evicting -> absent) are made.
#ifndef CACE_MODEL_REGISTRY_H_
#define CACE_MODEL_REGISTRY_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cace/eviction_policy.h"
#include "cace/types.h"

namespace cace {

enum class WeightFormat : std::uint8_t { kSafetensors, kGguf, kSimulated };

enum class ModelState : std::uint8_t { kAbsent, kLoading, kResident, kEvicting };
std::string_view ModelStateName(ModelState state);

// What a host tells cace about a model when registering it.
struct ModelSpec {
  std::string name;
  std::vector<std::string> files;
  WeightFormat format = WeightFormat::kSimulated;
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  // Load time before any measurement: the profiler's record, or an estimate from bandwidth.
  Seconds load_seconds = 0.0;
};

// A model's catalogue entry as seen from outside the registry (a copy).
struct ModelRecord {
  ModelHandle handle = 0;
  ModelSpec spec;
  ModelState state = ModelState::kAbsent;
  bool pinned = false;
  int in_flight = 0;
  Seconds last_use = 0.0;
  Seconds load_seconds = 0.0;  // smoothed measurement (spec.load_seconds until the first one)
  int load_samples = 0;
  std::uint64_t kv_bytes = 0;  // KV cache bytes currently held by the model's sequences
};

inline constexpr ModelHandle kNoModel = ~ModelHandle{0};

struct RoomOptions {
  std::span<const ModelHandle> upcoming;  // models of queued requests, oldest first
  // Also consider models serving requests: those victims drain (finish what they serve, take
  // nothing new) before their memory is free.
  bool include_busy = false;
  ModelHandle protect = kNoModel;  // a model that must not be chosen (the one being served)
  // Per model handle, the engine's estimate of how long a busy model would take to drain; read
  // only with include_busy. Missing entries count as 0.
  std::span<const Seconds> drain_seconds;
};

// The mutable part of a model's entry: cheap to read on every scheduling step.
struct ModelStatus {
  ModelState state = ModelState::kAbsent;
  bool pinned = false;
  int in_flight = 0;
  Seconds last_use = 0.0;
  Seconds load_seconds = 0.0;
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes = 0;
};

// The outcome of ReserveRoom: which models were moved to kEvicting to make the room.
struct Reservation {
  std::vector<ModelHandle> victims;
  std::uint64_t bytes_freed = 0;
};

class ModelRegistry {
 public:
  // `capacity_bytes` is the memory budget that weights and KV caches of resident models share.
  explicit ModelRegistry(std::uint64_t capacity_bytes);

  // InvalidArgument for an empty name or zero weight bytes, AlreadyExists for a duplicate name,
  // OutOfRange when the model alone exceeds the whole capacity.
  absl::StatusOr<ModelHandle> Register(ModelSpec spec);
  absl::StatusOr<ModelHandle> Find(std::string_view name) const;
  absl::StatusOr<ModelRecord> Get(ModelHandle model) const;
  absl::StatusOr<ModelStatus> Inspect(ModelHandle model) const;
  std::vector<ModelRecord> Snapshot() const;
  std::size_t size() const;
  std::uint64_t capacity_bytes() const { return capacity_bytes_; }
  // Bytes held by models that are loading, resident or evicting (weights and KV caches).
  std::uint64_t used_bytes() const;

  // Makes room for `bytes_needed` more bytes: asks `policy` for victims among the resident models
  // that are neither pinned nor serving requests (nor protected), checks its answer, and marks the
  // victims kEvicting, all under one lock. ResourceExhausted (with the registry unchanged) when
  // even evicting every such model would not free enough; Internal when the policy's answer is
  // invalid. Idle victims can be removed at once (FinishEviction); busy ones once they drain.
  absl::StatusOr<Reservation> ReserveRoom(EvictionPolicy& policy, std::uint64_t bytes_needed,
                                          Seconds now, const RoomOptions& options = {});

  // State transitions; each checks that the model exists and that the move is legal.
  absl::Status BeginLoad(ModelHandle model);        // absent -> loading (needs the room free)
  // loading -> resident; the load's end counts as a use (a model just loaded is not idle).
  absl::Status FinishLoad(ModelHandle model, Seconds measured_load_seconds, Seconds now);
  absl::Status AbortLoad(ModelHandle model);        // loading -> absent
  absl::Status BeginEviction(ModelHandle model);    // resident -> evicting (an unasked unload)
  absl::Status FinishEviction(ModelHandle model);   // evicting -> absent (needs no in-flight work)
  absl::Status SetPinned(ModelHandle model, bool pinned);

  // Request accounting. BeginRequest needs a resident model; it bumps in_flight and last use.
  absl::Status BeginRequest(ModelHandle model, Seconds now);
  absl::Status EndRequest(ModelHandle model);
  // The KV cache bytes a model's live sequences hold; counted against the capacity.
  absl::Status SetKvBytes(ModelHandle model, std::uint64_t bytes);

  // Smoothing of measured load times: new = (1 - a) * old + a * measured.
  static constexpr double kLoadSmoothing = 0.3;

 private:
  absl::StatusOr<ModelRecord*> Lookup(ModelHandle model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::uint64_t UsedBytesLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const std::uint64_t capacity_bytes_;
  mutable absl::Mutex mu_;
  std::vector<ModelRecord> models_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ModelHandle> by_name_ ABSL_GUARDED_BY(mu_);
  std::vector<Candidate> scratch_candidates_ ABSL_GUARDED_BY(mu_);
  std::vector<ModelHandle> scratch_victims_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cace

#endif  // CACE_MODEL_REGISTRY_H_
