// The stress run's book of every request and load: host threads and engine callbacks write it,
// the watchdog and the report read it. Lock-free per request (one slot each, fixed up front).
#ifndef CACE_TOOLS_STRESS_STRESS_LEDGER_H_
#define CACE_TOOLS_STRESS_STRESS_LEDGER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cace::stress {

class StressLedger {
 public:
  explicit StressLedger(std::size_t requests);

  double Now() const;  // seconds since the ledger was made

  // One request, by its slot (0 .. requests-1).
  void Submitted(std::size_t slot);
  void Refused(std::size_t slot, const absl::Status& why);  // Submit said no
  void Accepted(std::size_t slot);
  void Token(std::size_t slot);
  void Done(std::size_t slot, const absl::Status& status);

  // The load worker's work: a load started, read some bytes, ended.
  void LoadStarted(const std::string& model);
  void LoadRead();
  void LoadEnded(const absl::Status& status);

  // The oldest silence: a request accepted and not ended, or a load under way, whose last sign
  // of progress is more than `seconds` old; empty when none.
  std::string Stalled(double seconds) const;

  struct Totals {
    std::uint64_t submitted = 0, refused = 0, accepted = 0, completed = 0, failed = 0, lost = 0;
    std::uint64_t ended_twice = 0, failed_without_reason = 0;
    std::uint64_t loads_ok = 0, loads_failed = 0;
    std::map<std::string, std::uint64_t> failures_by_code;  // absl code name -> count
    std::map<std::string, std::uint64_t> refusals_by_code;
  };
  Totals Tally() const;

 private:
  struct Slot {
    std::atomic<bool> submitted{false}, accepted{false}, refused{false};
    std::atomic<int> done{0};
    std::atomic<int> code{0};
    std::atomic<bool> has_reason{false};
    std::atomic<double> last_progress{0};
  };
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::unique_ptr<Slot[]> slots_;
  const std::size_t size_;

  mutable std::mutex load_mu_;
  std::string loading_;        // guarded: the model whose load is under way, empty when none
  double load_progress_ = 0;   // guarded
  std::uint64_t loads_ok_ = 0, loads_failed_ = 0;  // guarded
  std::atomic<int> refused_codes_[20]{};
};

}  // namespace cace::stress

#endif  // CACE_TOOLS_STRESS_STRESS_LEDGER_H_
