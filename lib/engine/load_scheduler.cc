#include "lib/engine/load_scheduler.h"

#include <algorithm>

namespace cace {

std::size_t FcfsLoadScheduler::PickNext(std::span<const WaitingModel> waiting, Seconds /*now*/) const {
  std::size_t best = 0;
  for (std::size_t i = 1; i < waiting.size(); ++i) {
    if (waiting[i].oldest_arrival < waiting[best].oldest_arrival) best = i;
  }
  return best;
}

std::size_t ContextLoadScheduler::PickNext(std::span<const WaitingModel> waiting,
                                             Seconds /*now*/) const {
  std::size_t best = 0;
  bool best_overdue = false;
  double best_value = -1;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    const WaitingModel& w = waiting[i];
    const bool overdue = w.loads_passed >= options_.max_loads_passed;
    double value = 0;
    for (int k = 0; k < kTaskKindCount; ++k) value += w.waiting[k] * options_.latency_sensitivity[k];
    value /= std::max(w.load_seconds, 1e-3);
    const bool better =
        i == 0 ||
        (overdue != best_overdue ? overdue
         : overdue             ? w.oldest_arrival < waiting[best].oldest_arrival
                               : value > best_value);
    if (better) {
      best = i;
      best_overdue = overdue;
      best_value = value;
    }
  }
  return best;
}

}  // namespace cace
