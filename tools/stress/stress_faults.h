// The faults the stress run injects, drawn from one seeded generator: some loads fail partway
// through their reads (alternately a read error and a truncation), some KV-cache allocations are
// refused. Switched off for the final health check.
#ifndef CACE_TOOLS_STRESS_STRESS_FAULTS_H_
#define CACE_TOOLS_STRESS_STRESS_FAULTS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "lib/faults/faulty_file_source.h"

namespace cace::stress {

class StressFaults {
 public:
  // stall_first_load_seconds > 0: the first read of the first load sleeps that long (to show that
  // the watchdog fires).
  StressFaults(std::uint64_t seed, double load_fail_rate, double kv_fail_rate, double stall_first_load_seconds)
      : rng_(seed), load_fail_rate_(load_fail_rate), kv_fail_rate_(kv_fail_rate),
        stall_seconds_(stall_first_load_seconds) {}

  // On the load worker, before each load: whether this one fails, and at which read.
  void LoadStarting();
  // Each read of that load (FaultyFileSource's decision).
  ReadFault Read();
  // Each allocation (FaultyPool's decision): KV caches only, weights fail through their reads.
  bool RefuseAllocation(std::string_view owner);
  void Stop() { on_ = false; }

  std::uint64_t loads_doomed() const { return loads_doomed_; }
  std::uint64_t allocations_refused() const { return allocations_refused_; }

 private:
  double Draw();

  std::mutex mu_;
  std::mt19937_64 rng_;  // guarded
  const double load_fail_rate_, kv_fail_rate_;
  double stall_seconds_;  // load worker only
  std::atomic<bool> on_{true};
  // The load under way (loads run one at a time, on the load worker).
  int reads_ = 0;
  int fail_at_read_ = 0;  // 0: this load is not failed
  bool truncate_ = false;
  std::atomic<std::uint64_t> loads_doomed_{0}, allocations_refused_{0};
};

}  // namespace cace::stress

#endif  // CACE_TOOLS_STRESS_STRESS_FAULTS_H_
