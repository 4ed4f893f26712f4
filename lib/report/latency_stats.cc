#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <vector>

#include "lib/report/replay_report.h"

namespace cace {
namespace {

// Nearest rank: the smallest sample with at least `percent` % of the samples at or below it,
// i.e. the ceil(percent/100 * n)-th smallest (1-based). Integer arithmetic keeps p50 of 10
// samples exactly the 5th.
double NearestRank(const std::vector<double>& sorted, std::size_t percent) {
  std::size_t rank = (percent * sorted.size() + 99) / 100;
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

LatencyStats SummarizeLatencies(std::span<const double> samples) {
  std::vector<double> sorted;
  sorted.reserve(samples.size());
  // A NaN is no latency and would break the ordering the percentiles rely on.
  std::copy_if(samples.begin(), samples.end(), std::back_inserter(sorted),
               [](double s) { return !std::isnan(s); });
  LatencyStats stats;
  if (sorted.empty()) return stats;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (double s : sorted) sum += s;
  stats.count = sorted.size();
  stats.mean = sum / static_cast<double>(sorted.size());
  stats.p50 = NearestRank(sorted, 50);
  stats.p95 = NearestRank(sorted, 95);
  stats.p99 = NearestRank(sorted, 99);
  return stats;
}

}  // namespace cace
