// Usage window: per model and task kind, how often a model was used in a sliding window of recent
// time, and how much demand is predicted for it in the near future. Times are passed in by the
// caller (from the engine's injected clock); nothing here reads a clock.
#ifndef CACE_USAGE_WINDOW_H_
#define CACE_USAGE_WINDOW_H_

#include <cstdint>
#include <vector>

#include "cace/types.h"

namespace cace {

struct UsageWindowOptions {
  Seconds window = 300.0;   // length of the sliding window
  int buckets = 30;         // its resolution: counts are kept per window/buckets seconds
  Seconds horizon = 60.0;   // how far ahead PredictedDemand looks
  double gap_smoothing = 0.2;  // weight of a new inter-arrival gap in its running mean
};

class UsageWindow {
 public:
  explicit UsageWindow(UsageWindowOptions options = {});

  const UsageWindowOptions& options() const { return options_; }

  // Records one request of `kind` to `model` at `now`. Times should not go backwards by more than a
  // bucket; a late record is counted in the newest bucket.
  void Record(ModelHandle model, TaskKind kind, Seconds now);

  // Requests per kind in the window ending at `now`.
  PerKind<std::uint32_t> Counts(ModelHandle model, Seconds now) const;
  std::uint32_t TotalCount(ModelHandle model, Seconds now) const;

  // Smoothed mean gap between this model's requests; 0 until two were seen.
  Seconds MeanInterArrival(ModelHandle model) const;

  // Expected number of requests to `model` in (now, now + horizon]: the mean of the windowed rate
  // and the inter-arrival rate. The latter decays once the model has been idle longer than its
  // usual gap (a stream of requests that stopped should stop predicting demand).
  double PredictedDemand(ModelHandle model, Seconds now) const;

 private:
  struct ModelUsage {
    std::int64_t head_bucket = -1;  // absolute index of the newest bucket in the ring
    PerKind<std::uint32_t> total{};  // sum over the ring
    Seconds last_arrival = -1.0;
    Seconds mean_gap = 0.0;
  };
  std::int64_t BucketOf(Seconds t) const;
  PerKind<std::uint32_t>& Slot(ModelHandle model, std::int64_t bucket);
  const PerKind<std::uint32_t>& Slot(ModelHandle model, std::int64_t bucket) const;

  UsageWindowOptions options_;
  Seconds bucket_seconds_;
  std::vector<ModelUsage> usage_;                 // indexed by model handle
  std::vector<PerKind<std::uint32_t>> ring_;      // models x buckets
};

}  // namespace cace

#endif  // CACE_USAGE_WINDOW_H_
