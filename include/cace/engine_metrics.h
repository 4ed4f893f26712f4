// What an Engine reports about itself: a snapshot of counters and latency histograms per model
// and task kind, the same as Prometheus text, and a residency listing like `ollama ps`.
// Plain structs (copies), so the C ABI can hand them out as they are.
#ifndef CACE_ENGINE_METRICS_H_
#define CACE_ENGINE_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cace/types.h"

namespace cace {

// Latency histogram with fixed bucket bounds (seconds), Prometheus style: counts[i] holds the
// observations <= kLatencyBounds[i] and above the previous bound; the last count is above all.
inline constexpr std::array<double, 14> kLatencyBounds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
struct Histogram {
  std::array<std::uint64_t, kLatencyBounds.size() + 1> counts{};
  std::uint64_t count = 0;
  double sum = 0;  // seconds

  void Observe(double seconds);
  double Mean() const { return count == 0 ? 0 : sum / static_cast<double>(count); }
};

// Per model and task kind.
struct KindMetrics {
  Histogram ttft;        // Submit to first token
  Histogram end_to_end;  // Submit to end
  Histogram queue_time;  // Submit to joining the batch
  std::uint64_t requests_ok = 0;
  std::uint64_t requests_failed = 0;  // ended with an error, cancelled or past deadline
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
};

// kHostCache: out of the budget's memory with its weights held in the host cache
// (EngineOptions::host_cache_bytes), so that its reload copies from memory; kAbsent: on disk only.
enum class Residency : std::uint8_t { kAbsent, kLoading, kResident, kEvicting, kHostCache };
// "absent", "loading", "resident", "evicting", "host-cache"
const char* ResidencyName(Residency residency);

// Loads finished from one tier: how many, their weight bytes, their seconds summed.
struct TierLoads {
  std::uint64_t loads = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

struct ModelMetrics {
  std::string model;
  PerKind<KindMetrics> kinds{};  // by KindIndex
  // Every tier together (the sums of from_disk and from_host_cache).
  std::uint64_t loads = 0;
  std::uint64_t load_failures = 0;
  std::uint64_t bytes_loaded = 0;
  double load_seconds = 0;   // summed over loads
  TierLoads from_disk;        // read from the model's files
  TierLoads from_host_cache;  // copied from the host cache (EngineOptions::host_cache_bytes)
  std::uint64_t host_cache_bytes = 0;  // its weights held in the host cache now
  std::uint64_t evictions = 0;
  std::uint64_t resident_bytes = 0;  // weights now held (0 when absent)
  // KV caches, two ways: what the policy counts, each admitted request's reservation
  // ((prompt + max_tokens) x KV bytes per token, from admission to its end), and what the
  // backend's KV caches really hold now (their allocations; 0 when absent). They differ while a
  // request is admitted but its cache not yet taken or already given back, and wherever a
  // backend's cache is not exactly the reservation.
  std::uint64_t kv_reserved_bytes = 0;
  std::uint64_t kv_allocated_bytes = 0;
  std::uint64_t queued = 0;          // requests waiting for a slot or a load
  std::uint64_t in_flight = 0;       // requests in its batch
};

struct MetricsSnapshot {
  double uptime_seconds = 0;
  std::uint64_t memory_budget_bytes = 0;
  std::uint64_t memory_used_bytes = 0;  // weights and KV reservations of every model (what the policy counts)
  std::uint64_t host_cache_budget_bytes = 0;
  std::uint64_t host_cache_used_bytes = 0;  // host bytes holding evicted weights
  // Loads started unasked while the load path was idle; those whose model then served a request
  // before its eviction; those a real request's load cancelled.
  std::uint64_t prefetches = 0;
  std::uint64_t prefetches_used = 0;
  std::uint64_t prefetches_cancelled = 0;
  // Compactions of the memory pool: a load refused because the free bytes were in pieces (between
  // KV caches and weights) was retried after sliding every allocation down.
  std::uint64_t pool_compactions = 0;
  std::vector<ModelMetrics> models;     // in the order they were added
};

// One row of the residency listing.
struct ResidencyEntry {
  std::string model;
  Residency state = Residency::kAbsent;
  std::uint64_t weight_bytes = 0;  // measured after a load, planned before
  std::uint64_t kv_reserved_bytes = 0;   // as in ModelMetrics
  std::uint64_t kv_allocated_bytes = 0;  // as in ModelMetrics
  double last_use_seconds_ago = -1;  // -1: never used
  std::uint64_t in_flight = 0;
  std::uint64_t queued = 0;
  bool pinned = false;
  int priority = 0;
  double keep_alive_seconds = -1;  // -1: until memory is needed
};

// Prometheus text exposition format 0.0.4 of a snapshot: cace_requests_total,
// cace_prompt_tokens_total, cace_completion_tokens_total, cace_time_to_first_token_seconds,
// cace_request_duration_seconds, cace_queue_time_seconds (histograms), cace_model_loads_total,
// cace_model_load_failures_total, cace_model_load_bytes_total, cace_model_load_seconds_total,
// cace_model_evictions_total, cace_model_resident_bytes, cace_model_kv_reserved_bytes,
// cace_model_kv_allocated_bytes, cace_model_queued_requests, cace_model_in_flight_requests, cace_model_tier_loads_total,
// cace_model_tier_load_bytes_total, cace_model_tier_load_seconds_total (label tier: "disk" or
// "host-cache"), cace_model_host_cache_bytes, cace_memory_budget_bytes, cace_memory_used_bytes,
// cace_host_cache_budget_bytes, cace_host_cache_used_bytes, cace_prefetches_total,
// cace_prefetches_used_total, cace_prefetches_cancelled_total, cace_pool_compactions_total; labels model, kind (and status for
// requests).
std::string PrometheusText(const MetricsSnapshot& snapshot);

// A fixed-width table of the listing, one row per model (what `ollama ps` prints).
std::string ResidencyListing(const std::vector<ResidencyEntry>& entries);

}  // namespace cace

#endif  // CACE_ENGINE_METRICS_H_
