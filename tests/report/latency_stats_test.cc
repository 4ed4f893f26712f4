#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "lib/report/replay_report.h"

namespace cace {
namespace {

TEST_CASE("nearest-rank percentiles of ten shuffled samples") {
  const std::vector<double> samples = {7, 3, 10, 1, 9, 5, 2, 8, 4, 6};
  const LatencyStats stats = SummarizeLatencies(samples);
  CHECK(stats.count == 10);
  CHECK(stats.mean == Approx(5.5));
  CHECK(stats.p50 == 5);   // rank ceil(0.50 * 10) = 5
  CHECK(stats.p95 == 10);  // rank ceil(0.95 * 10) = 10
  CHECK(stats.p99 == 10);
  CHECK(samples.front() == 7);  // the input is not sorted in place
}

TEST_CASE("nearest-rank percentiles of 1..20 and 1..100") {
  std::vector<double> twenty;
  for (int i = 20; i >= 1; --i) twenty.push_back(i * 0.1);
  LatencyStats stats = SummarizeLatencies(twenty);
  CHECK(stats.p50 == Approx(1.0));  // rank 10
  CHECK(stats.p95 == Approx(1.9));  // rank 19
  CHECK(stats.p99 == Approx(2.0));  // rank ceil(19.8) = 20
  CHECK(stats.mean == Approx(1.05));

  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back((i * 37) % 101);  // 1..100 in scrambled order
  stats = SummarizeLatencies(hundred);
  CHECK(stats.count == 100);
  CHECK(stats.p50 == 50);
  CHECK(stats.p95 == 95);
  CHECK(stats.p99 == 99);
  CHECK(stats.mean == Approx(50.5));
}

TEST_CASE("nearest rank rounds the rank up, never to the nearest") {
  std::vector<double> twelve;
  for (int i = 12; i >= 1; --i) twelve.push_back(i);
  const LatencyStats stats = SummarizeLatencies(twelve);
  CHECK(stats.p50 == 6);   // rank 6
  CHECK(stats.p95 == 12);  // rank ceil(11.4) = 12, not 11
  CHECK(stats.p99 == 12);  // rank ceil(11.88) = 12
}

TEST_CASE("one sample is every percentile") {
  const std::vector<double> one = {0.3};
  const LatencyStats stats = SummarizeLatencies(one);
  CHECK(stats.count == 1);
  CHECK(stats.mean == 0.3);
  CHECK(stats.p50 == 0.3);
  CHECK(stats.p95 == 0.3);
  CHECK(stats.p99 == 0.3);
}

TEST_CASE("empty input gives count 0") {
  const LatencyStats stats = SummarizeLatencies({});
  CHECK(stats.count == 0);
  CHECK(stats.mean == 0);
  CHECK(stats.p99 == 0);
}

TEST_CASE("NaN samples are skipped, infinite ones kept") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> samples = {3, nan, 1, nan};
  LatencyStats stats = SummarizeLatencies(samples);
  CHECK(stats.count == 2);
  CHECK(stats.mean == 2);
  CHECK(stats.p50 == 1);
  CHECK(stats.p99 == 3);

  const std::vector<double> only_nan = {nan, nan};
  CHECK(SummarizeLatencies(only_nan).count == 0);

  const std::vector<double> with_inf = {1, inf};
  stats = SummarizeLatencies(with_inf);
  CHECK(stats.count == 2);
  CHECK(stats.p50 == 1);
  CHECK(std::isinf(stats.p99));
}

}  // namespace
}  // namespace cace
