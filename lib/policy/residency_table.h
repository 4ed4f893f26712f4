// ResidencyTable: the state behind the model catalogue: each model's spec, residency state
// (absent -> loading -> resident -> evicting -> absent), pin, priority, keep-alive, requests in
// flight, KV bytes and load-time measurements, and the checked transitions between them.
//
// Plain single-threaded state with one owner, the serving core (lib/engine/serving_core.h), which
// makes every change and fires every policy hook; the table itself fires none. Thread safety lives
// at the Engine's boundary, not here.
#ifndef CACE_LIB_POLICY_RESIDENCY_TABLE_H_
#define CACE_LIB_POLICY_RESIDENCY_TABLE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/eviction_policy.h"
#include "cace/model_registry.h"

namespace cace {

struct RoomOptions {
  std::span<const ModelHandle> upcoming;  // models of queued requests, oldest first
  // Also consider models serving requests: those victims drain (finish what they serve, take
  // nothing new) before their memory is free.
  bool include_busy = false;
  ModelHandle protect = kNoModel;  // a model that must not be chosen (the one being served)
  // Per model handle, the core's estimate of how long a busy model would take to drain; read
  // only with include_busy. Missing entries count as 0.
  std::span<const Seconds> drain_seconds;
  // Per model handle, what reloading it would cost after this eviction (the tier it would come
  // back from); missing entries: the model's measured disk load time.
  std::span<const Seconds> reload_seconds;
};

// The outcome of ReserveRoom: which models were moved to kEvicting to make the room.
struct Reservation {
  std::vector<ModelHandle> victims;
  std::uint64_t bytes_freed = 0;
};

class ResidencyTable {
 public:
  // `capacity_bytes` is the memory budget that weights and KV caches of resident models share.
  explicit ResidencyTable(std::uint64_t capacity_bytes);

  // InvalidArgument for an empty name, zero weight bytes or a negative load time, AlreadyExists
  // for a name in the table, OutOfRange when the model alone exceeds the whole capacity. Handles
  // are dense and never reused.
  absl::StatusOr<ModelHandle> Register(ModelSpec spec);
  // Takes an absent, idle, unpinned model out of the table (FailedPrecondition otherwise); its
  // name may be registered again, under a new handle.
  absl::Status Remove(ModelHandle model);

  absl::StatusOr<ModelHandle> Find(std::string_view name) const;
  // Records leave `queued` at 0: the queues are the core's, which fills it in its catalogue.
  absl::StatusOr<ModelRecord> Get(ModelHandle model) const;
  bool Contains(ModelHandle model) const;
  // The entry of a model known to be in the table (Contains); the core's cheap read.
  const ModelRecord& record(ModelHandle model) const { return models_[model]; }
  std::vector<ModelRecord> Snapshot() const;  // models in the table, by handle
  std::size_t size() const { return by_name_.size(); }
  std::size_t handle_count() const { return models_.size(); }  // handles ever issued
  std::uint64_t capacity_bytes() const { return capacity_bytes_; }
  // Bytes held by models that are loading, resident or evicting (weights and KV caches).
  std::uint64_t used_bytes() const;

  // Makes room for `bytes_needed` more bytes: asks `policy` for victims among the resident models
  // that are neither pinned nor serving requests (unless include_busy) nor protected, checks its
  // answer, and marks the victims kEvicting. ResourceExhausted (with the table unchanged) when
  // even evicting every such model would not free enough; Internal when the policy's answer is
  // invalid. Fires no hook: the caller tells the policy of each victim (OnEvict).
  absl::StatusOr<Reservation> ReserveRoom(EvictionPolicy& policy, std::uint64_t bytes_needed,
                                          Seconds now, const RoomOptions& options = {});

  // State transitions; each checks that the model exists and that the move is legal.
  absl::Status BeginLoad(ModelHandle model);        // absent -> loading (needs the room free)
  // loading -> resident; the load's end counts as a use (a model just loaded is not idle). The
  // measured time joins the smoothed disk load time; nothing for a load from another tier.
  absl::Status FinishLoad(ModelHandle model, std::optional<Seconds> measured_load_seconds, Seconds now);
  // A disk load time learned before (the state file), replacing the smoothed measurement.
  absl::Status RestoreLoadSeconds(ModelHandle model, Seconds seconds, int samples);
  absl::Status AbortLoad(ModelHandle model);        // loading -> absent
  absl::Status BeginEviction(ModelHandle model);    // resident -> evicting (not when pinned)
  absl::Status FinishEviction(ModelHandle model);   // evicting -> absent (needs no in-flight work)
  absl::Status SetPinned(ModelHandle model, bool pinned);
  // The weight bytes a backend measured the model holding (replacing the registered figure);
  // ResourceExhausted, with nothing changed, when they do not fit the capacity beside the rest.
  absl::Status SetWeightBytes(ModelHandle model, std::uint64_t bytes);
  absl::Status SetPriority(ModelHandle model, int priority);
  absl::Status SetKeepAlive(ModelHandle model, std::optional<Seconds> keep_alive);

  // Request accounting. BeginRequest needs a resident model; it bumps in_flight and last use.
  absl::Status BeginRequest(ModelHandle model, Seconds now);
  absl::Status EndRequest(ModelHandle model);
  // The KV cache bytes a model's live sequences hold; counted against the capacity.
  absl::Status SetKvBytes(ModelHandle model, std::uint64_t bytes);

  // Smoothing of measured load times: new = (1 - a) * old + a * measured.
  static constexpr double kLoadSmoothing = 0.3;

 private:
  absl::StatusOr<ModelRecord*> Lookup(ModelHandle model);

  const std::uint64_t capacity_bytes_;
  std::vector<ModelRecord> models_;  // by handle, removed ones included
  std::vector<bool> removed_;        // by handle
  absl::flat_hash_map<std::string, ModelHandle> by_name_;
  std::vector<Candidate> scratch_candidates_;
  std::vector<ModelHandle> scratch_victims_;
};

}  // namespace cace

#endif  // CACE_LIB_POLICY_RESIDENCY_TABLE_H_
