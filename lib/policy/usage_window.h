// Usage window: per model and task kind, how often a model was used in a sliding window of recent
// time, and how much demand is predicted for it in the near future. Times are passed in by the
// caller (from the engine's injected clock); nothing here reads a clock.
#ifndef CACE_LIB_POLICY_USAGE_WINDOW_H_
#define CACE_LIB_POLICY_USAGE_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "cace/types.h"

namespace cace {

struct UsageWindowOptions {
  Seconds window = 300.0;   // length of the sliding window
  int buckets = 30;         // its resolution: counts are kept per window/buckets seconds
  Seconds horizon = 60.0;   // how far ahead PredictedDemand looks
  double gap_smoothing = 0.2;  // weight of a new inter-arrival gap in its running mean
};

// One model's window as of a bucket, and how long it stays so: a decision may keep it from that
// bucket through `valid_through`, until the model is used again.
struct WindowReading {
  PerKind<std::uint32_t> counts{};  // requests per kind in the window
  double rate = 0.0;                // requests per second over the window
  std::int64_t valid_through = std::numeric_limits<std::int64_t>::max();  // the last bucket
};

class UsageWindow {
 public:
  explicit UsageWindow(UsageWindowOptions options = {});

  const UsageWindowOptions& options() const { return options_; }

  // Records one request of `kind` to `model` at `now`. Times should not go backwards by more than a
  // bucket; a late record is counted in the newest bucket.
  void Record(ModelHandle model, TaskKind kind, Seconds now);

  // Requests per kind in the window ending at `now`. O(1): the ring keeps cumulative counts.
  PerKind<std::uint32_t> Counts(ModelHandle model, Seconds now) const;
  std::uint32_t TotalCount(ModelHandle model, Seconds now) const;
  // The bucket that time `t` falls in.
  std::int64_t Bucket(Seconds t) const;
  // The window ending in bucket `now_bucket` (Bucket(now)): Counts(model, now), the rate they make,
  // and the last bucket through which they hold for certain if the model is not used again (for
  // good once the window is empty).
  WindowReading Read(ModelHandle model, std::int64_t now_bucket) const;

  // Smoothed mean gap between this model's requests; 0 until two were seen.
  Seconds MeanInterArrival(ModelHandle model) const;
  // When its last request came; negative when none did.
  Seconds LastArrival(ModelHandle model) const;
  // After a restart: `counts` requests per kind as of `last_arrival`, with this mean gap.
  void Restore(ModelHandle model, const PerKind<std::uint32_t>& counts, Seconds mean_gap,
               Seconds last_arrival);

  // Expected number of requests to `model` in (now, now + horizon]: the mean of the windowed rate
  // and the inter-arrival rate. The latter decays once the model has been idle longer than its
  // usual gap (a stream of requests that stopped should stop predicting demand).
  double PredictedDemand(ModelHandle model, Seconds now) const;
  // The same, given the model's window at `now` (Read), as a decision that keeps readings has it.
  double PredictedDemand(ModelHandle model, const WindowReading& reading, Seconds now) const;

 private:
  struct ModelUsage {
    std::int64_t head_bucket = -1;  // absolute index of the newest bucket with a record
    Seconds last_arrival = -1.0;
    Seconds mean_gap = 0.0;
  };
  std::size_t SlotIndex(ModelHandle model, std::int64_t bucket) const;

  UsageWindowOptions options_;
  Seconds bucket_seconds_;
  std::int64_t slots_;  // >= buckets + 1: the cumulative count just before the window is kept too
  std::vector<ModelUsage> usage_;  // indexed by model handle
  // Per model, `slots_` cumulative counts per kind: the slot of bucket b holds the requests counted
  // up to the end of b, for b in [head - buckets, head]. A window count is then one subtraction
  // (unsigned, so wrap-around after 2^32 requests stays exact).
  std::vector<PerKind<std::uint32_t>> cumulative_;
};

// Inline: a decision reads every candidate.
inline std::size_t UsageWindow::SlotIndex(ModelHandle model, std::int64_t bucket) const {
  return static_cast<std::size_t>(model) * static_cast<std::size_t>(slots_) +
         (static_cast<std::uint64_t>(bucket) & static_cast<std::uint64_t>(slots_ - 1));
}

inline double UsageWindow::PredictedDemand(ModelHandle model, const WindowReading& reading,
                                           Seconds now) const {
  if (model >= usage_.size() || usage_[model].head_bucket < 0) return 0.0;
  const ModelUsage& u = usage_[model];
  if (u.mean_gap <= 0) return reading.rate * options_.horizon;
  // 1/mean_gap while the stream keeps its pace; once idle for longer than the usual gap,
  // (1/mean_gap) * (mean_gap/idle) = 1/idle.
  const double gap_rate = 1.0 / std::max(u.mean_gap, now - u.last_arrival);
  return 0.5 * (reading.rate + gap_rate) * options_.horizon;
}

}  // namespace cace

#endif  // CACE_LIB_POLICY_USAGE_WINDOW_H_
