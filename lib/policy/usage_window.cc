#include "cace/usage_window.h"

#include <algorithm>
#include <cmath>

namespace cace {

UsageWindow::UsageWindow(UsageWindowOptions options)
    : options_(options),
      bucket_seconds_(options.window / std::max(1, options.buckets)) {
  options_.buckets = std::max(1, options_.buckets);
}

std::int64_t UsageWindow::BucketOf(Seconds t) const {
  return static_cast<std::int64_t>(std::floor(t / bucket_seconds_));
}

PerKind<std::uint32_t>& UsageWindow::Slot(ModelHandle model, std::int64_t bucket) {
  const std::int64_t n = options_.buckets;
  return ring_[static_cast<std::size_t>(model) * static_cast<std::size_t>(n) +
               static_cast<std::size_t>(((bucket % n) + n) % n)];
}

const PerKind<std::uint32_t>& UsageWindow::Slot(ModelHandle model, std::int64_t bucket) const {
  return const_cast<UsageWindow*>(this)->Slot(model, bucket);
}

void UsageWindow::Record(ModelHandle model, TaskKind kind, Seconds now) {
  if (model >= usage_.size()) {
    usage_.resize(model + 1);
    ring_.resize(usage_.size() * static_cast<std::size_t>(options_.buckets));
  }
  ModelUsage& u = usage_[model];
  const std::int64_t bucket = BucketOf(now);
  if (bucket > u.head_bucket) {
    // Clear the buckets the head moves over; at most the whole ring.
    const std::int64_t steps = std::min<std::int64_t>(bucket - u.head_bucket, options_.buckets);
    for (std::int64_t b = bucket - steps + 1; b <= bucket; ++b) {
      PerKind<std::uint32_t>& slot = Slot(model, b);
      for (int k = 0; k < kTaskKindCount; ++k) u.total[k] -= slot[k];
      slot = {};
    }
    u.head_bucket = bucket;
  }
  ++Slot(model, u.head_bucket)[KindIndex(kind)];
  ++u.total[KindIndex(kind)];

  if (u.last_arrival >= 0 && now >= u.last_arrival) {
    // Requests of one burst can share a timestamp; a floor keeps the rate finite.
    constexpr Seconds kMinGap = 1e-3;
    const Seconds gap = std::max(now - u.last_arrival, kMinGap);
    u.mean_gap = u.mean_gap == 0 ? gap : (1 - options_.gap_smoothing) * u.mean_gap +
                                             options_.gap_smoothing * gap;
  }
  u.last_arrival = std::max(u.last_arrival, now);
}

PerKind<std::uint32_t> UsageWindow::Counts(ModelHandle model, Seconds now) const {
  if (model >= usage_.size() || usage_[model].head_bucket < 0) return {};
  const ModelUsage& u = usage_[model];
  const std::int64_t lag = BucketOf(now) - u.head_bucket;
  if (lag >= options_.buckets) return {};
  PerKind<std::uint32_t> counts = u.total;
  // The oldest `lag` buckets of the ring have slid out of the window ending now.
  for (std::int64_t b = u.head_bucket - options_.buckets + 1;
       b < u.head_bucket - options_.buckets + 1 + std::max<std::int64_t>(lag, 0); ++b) {
    const PerKind<std::uint32_t>& slot = Slot(model, b);
    for (int k = 0; k < kTaskKindCount; ++k) counts[k] -= slot[k];
  }
  return counts;
}

std::uint32_t UsageWindow::TotalCount(ModelHandle model, Seconds now) const {
  PerKind<std::uint32_t> counts = Counts(model, now);
  std::uint32_t total = 0;
  for (std::uint32_t c : counts) total += c;
  return total;
}

Seconds UsageWindow::MeanInterArrival(ModelHandle model) const {
  return model < usage_.size() ? usage_[model].mean_gap : 0.0;
}

double UsageWindow::PredictedDemand(ModelHandle model, Seconds now) const {
  if (model >= usage_.size()) return 0.0;
  const ModelUsage& u = usage_[model];
  const double windowed_rate = TotalCount(model, now) / options_.window;
  if (u.mean_gap <= 0) return windowed_rate * options_.horizon;
  double gap_rate = 1.0 / u.mean_gap;
  const Seconds idle = now - u.last_arrival;
  if (idle > u.mean_gap) gap_rate *= u.mean_gap / idle;
  return 0.5 * (windowed_rate + gap_rate) * options_.horizon;
}

}  // namespace cace
