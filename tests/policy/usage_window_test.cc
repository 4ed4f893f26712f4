#include <algorithm>
#include <limits>
#include <random>

#include <catch2/catch.hpp>

#include "lib/policy/usage_window.h"

namespace cace {
namespace {

TEST_CASE("sliding-window counts per kind forget requests older than the window") {
  UsageWindow window({.window = 100.0, .buckets = 10, .horizon = 10.0});
  window.Record(1, TaskKind::kCompletion, 5.0);
  window.Record(1, TaskKind::kCompletion, 15.0);
  window.Record(1, TaskKind::kReasoning, 55.0);
  auto counts = window.Counts(1, 60.0);
  CHECK(counts[KindIndex(TaskKind::kCompletion)] == 2);
  CHECK(counts[KindIndex(TaskKind::kReasoning)] == 1);
  CHECK(window.TotalCount(1, 60.0) == 3);
  // At t=105 the window is (5, 105]: bucket [0,10) has slid out.
  CHECK(window.Counts(1, 105.0)[KindIndex(TaskKind::kCompletion)] == 1);
  CHECK(window.TotalCount(1, 115.0) == 1);
  // Counts are kept per 10 s bucket: the request at 55 s leaves once its bucket [50, 60) does.
  CHECK(window.TotalCount(1, 149.0) == 1);
  CHECK(window.TotalCount(1, 150.0) == 0);
  CHECK(window.TotalCount(1, 1000.0) == 0);
  CHECK(window.TotalCount(2, 60.0) == 0);  // never seen
  // Recording after a long gap clears the ring.
  window.Record(1, TaskKind::kChat, 500.0);
  CHECK(window.TotalCount(1, 500.0) == 1);
  CHECK(window.Counts(1, 500.0)[KindIndex(TaskKind::kChat)] == 1);
}

TEST_CASE("predicted demand follows the arrival rate and decays when a stream stops") {
  UsageWindow window({.window = 100.0, .buckets = 10, .horizon = 10.0});
  for (int i = 0; i < 20; ++i) window.Record(1, TaskKind::kCompletion, i * 2.0);  // 0.5 req/s
  CHECK(window.MeanInterArrival(1) == Approx(2.0));
  // Windowed rate 20/100 = 0.2/s, gap rate 0.5/s: mean 0.35/s over 10 s.
  CHECK(window.PredictedDemand(1, 39.0) == Approx(3.5));
  // Idle for 40 s against a 2 s usual gap: the gap rate falls to 0.5 * 2/40.
  CHECK(window.PredictedDemand(1, 78.0) == Approx(0.5 * (0.2 + 0.5 * 2.0 / 40.0) * 10.0));
  CHECK(window.PredictedDemand(1, 1000.0) < 0.02);
  CHECK(window.PredictedDemand(9, 10.0) == 0.0);
}

TEST_CASE("a reading holds through the bucket it says") {
  std::mt19937 rng(5);
  UsageWindow window({.window = 100.0, .buckets = 10, .horizon = 10.0});
  double t = 0;
  for (int i = 0; i < 400; ++i) {
    t += (rng() % 100 == 0) ? 150.0 : static_cast<double>(rng() % 80) / 10.0;
    window.Record(static_cast<ModelHandle>(rng() % 4), static_cast<TaskKind>(rng() % 3), t);
    const ModelHandle m = static_cast<ModelHandle>(rng() % 5);  // model 4: never used
    const std::int64_t now = window.Bucket(t) + static_cast<std::int64_t>(rng() % 15) - 3;
    const WindowReading reading = window.Read(m, now);
    CHECK(reading.counts == window.Counts(m, (static_cast<double>(now) + 0.5) * 10.0));
    CHECK(reading.rate == Approx((reading.counts[0] + reading.counts[1] + reading.counts[2]) / 100.0));
    const std::int64_t last = std::min(reading.valid_through, now + 40);
    for (std::int64_t b = now; b <= last; ++b) REQUIRE(window.Read(m, b).counts == reading.counts);
    // An empty window stays empty until the next record.
    const bool empty = reading.counts == PerKind<std::uint32_t>{};
    CHECK(empty == (reading.valid_through == std::numeric_limits<std::int64_t>::max()));
  }
}

}  // namespace
}  // namespace cace
