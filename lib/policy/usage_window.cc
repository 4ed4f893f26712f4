#include "lib/policy/usage_window.h"

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

std::int64_t UsageWindow::Bucket(Seconds t) const {
  return static_cast<std::int64_t>(std::floor(t / bucket_seconds_));
}

void UsageWindow::Record(ModelHandle model, TaskKind kind, Seconds now) {
  if (model >= usage_.size()) {
    usage_.resize(model + 1);
    cumulative_.resize(usage_.size() * static_cast<std::size_t>(slots_));
  }
  ModelUsage& u = usage_[model];
  const std::int64_t bucket = Bucket(now);
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

WindowReading UsageWindow::Read(ModelHandle model, std::int64_t now_bucket) const {
  WindowReading reading;
  if (model >= usage_.size() || usage_[model].head_bucket < 0) return reading;
  const std::int64_t head = usage_[model].head_bucket;
  const std::int64_t buckets = options_.buckets;
  // The window ending in bucket b covers (b - buckets, b]: its counts are the cumulative count of
  // the head less that of bucket max(b, head) - buckets, the newest bucket before it. Once that
  // reaches the head, the window is empty for good.
  const std::int64_t base = std::max(now_bucket, head) - buckets;
  if (base >= head) return reading;
  const PerKind<std::uint32_t>& head_count = cumulative_[SlotIndex(model, head)];
  const PerKind<std::uint32_t>& base_count = cumulative_[SlotIndex(model, base)];
  std::uint32_t total = 0;
  for (int k = 0; k < kTaskKindCount; ++k) {
    reading.counts[k] = head_count[k] - base_count[k];
    total += reading.counts[k];
  }
  reading.rate = total / options_.window;
  // Up to the head they are the same (the base stays at head - buckets); after it, the window may
  // lose a bucket that held requests at every step. (Finding the next such bucket costs more than
  // the reads it saves.)
  reading.valid_through = std::max(now_bucket, head);
  return reading;
}

PerKind<std::uint32_t> UsageWindow::Counts(ModelHandle model, Seconds now) const {
  return Read(model, Bucket(now)).counts;
}

std::uint32_t UsageWindow::TotalCount(ModelHandle model, Seconds now) const {
  std::uint32_t total = 0;
  for (std::uint32_t count : Counts(model, now)) total += count;
  return total;
}

Seconds UsageWindow::LastArrival(ModelHandle model) const {
  return model < usage_.size() ? usage_[model].last_arrival : -1.0;
}

void UsageWindow::Restore(ModelHandle model, const PerKind<std::uint32_t>& counts, Seconds mean_gap,
                          Seconds last_arrival) {
  for (TaskKind kind : kAllTaskKinds) {
    for (std::uint32_t i = 0; i < counts[KindIndex(kind)]; ++i) Record(model, kind, last_arrival);
  }
  if (model >= usage_.size()) return;  // nothing recorded
  // The records above shared one time; the gap learned before the restart replaces theirs.
  usage_[model].mean_gap = mean_gap;
}

Seconds UsageWindow::MeanInterArrival(ModelHandle model) const {
  return model < usage_.size() ? usage_[model].mean_gap : 0.0;
}

double UsageWindow::PredictedDemand(ModelHandle model, Seconds now) const {
  return PredictedDemand(model, Read(model, Bucket(now)), now);
}

}  // namespace cace
