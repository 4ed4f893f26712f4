// The results of replaying one trace through several policies, and the ways they are shown: a
// terminal table with ratios to a baseline, JSON, CSV and an SVG chart.
#ifndef CACE_LIB_REPORT_REPLAY_REPORT_H_
#define CACE_LIB_REPORT_REPLAY_REPORT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cace/types.h"

namespace cace {

struct LatencyStats {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0;  // seconds
};

// Nearest-rank percentiles of `samples` (seconds); sorts a copy. NaN samples are skipped; when none
// are left, count is 0 and every output shows the figures as absent rather than as 0 s.
LatencyStats SummarizeLatencies(std::span<const double> samples);

// Everything one policy's replay measured.
struct PolicyResult {
  std::string policy;
  std::uint64_t requests = 0;
  LatencyStats ttft, e2e;
  PerKind<LatencyStats> ttft_by_kind{}, e2e_by_kind{};
  std::uint64_t evictions = 0;
  std::uint64_t loads = 0;
  std::uint64_t bytes_loaded = 0;
  double load_seconds = 0;          // total time the load path was busy
  double memory_utilization = 0;    // time-averaged fraction of the budget holding weights or KV
  // Where waiting comes from. Admission wait: arrival until the request joins its model's batch
  // (waiting for the model to be loaded, for a batch slot or for KV room); TTFT less this is
  // prefill and the accelerator's turn. Drains: evictions of busy models, which finish their
  // requests first; drain wait: how long loads stood waiting for them (the load path idle).
  LatencyStats admission_wait;
  std::uint64_t drains = 0;
  double drain_wait_seconds = 0;
  // Tiers and prefetch (0 without a host cache or prefetch): loads copied from the host cache of
  // evicted weights (the other loads read the disk) and their bytes; models the cache dropped to
  // make room; loads started unasked, those whose model served before its eviction, and those a
  // real request cancelled.
  std::uint64_t host_cache_loads = 0;
  std::uint64_t host_cache_bytes_loaded = 0;
  std::uint64_t host_cache_drops = 0;
  std::uint64_t prefetches = 0;
  std::uint64_t prefetches_used = 0;
  std::uint64_t prefetches_cancelled = 0;
  // Requests that can never fit the memory (weights plus their KV reservation exceed the budget)
  // are rejected at arrival, as a server answers them, and left out of every latency figure.
  std::uint64_t rejected = 0;
  std::string rejection_reason;     // the first rejection's reason; empty when none
  double simulated_seconds = 0;     // replayed time from 0 until the last request finished
  PerKind<double> slo_attainment{}; // fraction of served requests of each kind meeting its SLO
  double replay_wall_seconds = 0;   // how long the replay itself took on this machine
  // Raw series for charts: every request's TTFT (seconds, arrival order) and each eviction's time.
  std::vector<double> ttft_samples;
  std::vector<double> eviction_times;
};

// Describes the scenario in every output, so a figure always travels with what produced it.
struct ScenarioInfo {
  std::string name;
  std::string accelerator;
  double memory_budget_bytes = 0;
  std::string trace;
  std::string fleet;
  double rate_scale = 1;
  std::uint64_t seed = 0;
  PerKind<double> slo_ttft_seconds{};
  std::vector<std::string> notes;  // free lines: sources of figures, assumptions
};

// A fixed-width table: one row per policy with TTFT and E2E (mean, p50, p95, p99), evictions,
// GB loaded, load seconds, memory utilisation and SLO attainment per kind; then the same figures
// as ratios to `baseline` (a policy name in `results`; no ratio block when absent), and per-kind
// TTFT/E2E means.
std::string FormatResultsTable(const ScenarioInfo& scenario, std::span<const PolicyResult> results,
                               const std::string& baseline);

// JSON: {"scenario": {...}, "results": [{"policy": ..., every figure above, "ratio_to_baseline":
// {...}}]}; the schema is documented in docs/replay-json.md. Raw series are left out.
absl::Status WriteResultsJson(const std::string& path, const ScenarioInfo& scenario,
                              std::span<const PolicyResult> results, const std::string& baseline);
// CSV: one line per policy, the same scalar figures as the JSON, a header line first.
absl::Status WriteResultsCsv(const std::string& path, std::span<const PolicyResult> results);
// SVG with two panels: the TTFT distribution per policy (CDF, log-scaled time axis) and
// cumulative evictions over time per policy.
absl::Status WriteResultsSvg(const std::string& path, const ScenarioInfo& scenario,
                             std::span<const PolicyResult> results);

}  // namespace cace

#endif  // CACE_LIB_REPORT_REPLAY_REPORT_H_
