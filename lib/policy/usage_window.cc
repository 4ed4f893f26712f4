#include "cace/usage_window.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cace {

UsageWindow::UsageWindow(UsageWindowOptions options)
    : options_(options),
      bucket_seconds_(options.window / std::max(1, options.buckets)),
      // buckets + 1 slots, rounded up to a power of two so that a slot is a mask, not a modulo.
      slots_(static_cast<std::int64_t>(std::bit_ceil(static_cast<std::uint64_t>(std::max(1, options.buckets) + 1)))) {
  options_.buckets = std::max(1, options_.buckets);
}

std::int64_t UsageWindow::BucketOf(Seconds t) const {
  return static_cast<std::int64_t>(std::floor(t / bucket_seconds_));
}

std::size_t UsageWindow::SlotIndex(ModelHandle model, std::int64_t bucket) const {
  return static_cast<std::size_t>(model) * static_cast<std::size_t>(slots_) +
         (static_cast<std::uint64_t>(bucket) & static_cast<std::uint64_t>(slots_ - 1));
}

void UsageWindow::Record(ModelHandle model, TaskKind kind, Seconds now) {
  if (model >= usage_.size()) {
    usage_.resize(model + 1);
    cumulative_.resize(usage_.size() * static_cast<std::size_t>(slots_));
  }
  ModelUsage& u = usage_[model];
  const std::int64_t bucket = BucketOf(now);
  if (bucket > u.head_bucket) {
    // Buckets the head moves over had no requests: they carry the head's cumulative count.
    const PerKind<std::uint32_t> carried =
        u.head_bucket < 0 ? PerKind<std::uint32_t>{} : cumulative_[SlotIndex(model, u.head_bucket)];
    // Before the first record the whole ring starts at zero.
    const std::int64_t first = u.head_bucket < 0 ? bucket - slots_ + 1
                                                 : std::max(u.head_bucket + 1, bucket - slots_ + 1);
    for (std::int64_t b = first; b <= bucket; ++b) cumulative_[SlotIndex(model, b)] = carried;
    u.head_bucket = bucket;
  }
  ++cumulative_[SlotIndex(model, u.head_bucket)][KindIndex(kind)];

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
  // The window ending now covers buckets (now_bucket - buckets, now_bucket].
  const std::int64_t before_window = std::min(BucketOf(now), u.head_bucket + options_.buckets) -
                                     options_.buckets;
  if (before_window >= u.head_bucket) return {};
  const PerKind<std::uint32_t>& head = cumulative_[SlotIndex(model, u.head_bucket)];
  const PerKind<std::uint32_t>& base =
      cumulative_[SlotIndex(model, std::max(before_window, u.head_bucket - options_.buckets))];
  PerKind<std::uint32_t> counts;
  for (int k = 0; k < kTaskKindCount; ++k) counts[k] = head[k] - base[k];
  return counts;
}

std::uint32_t UsageWindow::TotalCount(ModelHandle model, Seconds now) const {
  return Read(model, now).total;
}

Seconds UsageWindow::MeanInterArrival(ModelHandle model) const {
  return model < usage_.size() ? usage_[model].mean_gap : 0.0;
}

double UsageWindow::Predict(const ModelUsage& u, std::uint32_t window_total, Seconds now) const {
  const double windowed_rate = window_total / options_.window;
  if (u.mean_gap <= 0) return windowed_rate * options_.horizon;
  // 1/mean_gap while the stream keeps its pace; once idle for longer than the usual gap,
  // (1/mean_gap) * (mean_gap/idle) = 1/idle.
  const double gap_rate = 1.0 / std::max(u.mean_gap, now - u.last_arrival);
  return 0.5 * (windowed_rate + gap_rate) * options_.horizon;
}

UsageReading UsageWindow::Read(ModelHandle model, Seconds now) const {
  UsageReading reading;
  if (model >= usage_.size()) return reading;
  reading.counts = Counts(model, now);
  for (std::uint32_t c : reading.counts) reading.total += c;
  reading.predicted_demand = Predict(usage_[model], reading.total, now);
  return reading;
}

double UsageWindow::PredictedDemand(ModelHandle model, Seconds now) const {
  return Read(model, now).predicted_demand;
}

}  // namespace cace
