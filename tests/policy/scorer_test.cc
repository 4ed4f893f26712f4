#include <catch2/catch.hpp>

#include "cace/context_scorer.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

ModelContext Context() {
  ModelContext c;
  c.bytes = 4 * kGiB;
  c.load_seconds = 2.0;
  c.window_seconds = 300.0;
  c.horizon_seconds = 60.0;
  c.expected_output_tokens = {16.0, 160.0, 600.0};
  return c;
}

TEST_CASE("the CACE keep-value matches its documented formula") {
  ModelContext c = Context();
  c.window_counts = {30, 0, 0};
  c.predicted_demand = 4.0;
  c.queued_requests = 1;
  const CaceWeights w;
  const double demand = w.base_demand + 30.0 * 60.0 / 300.0 + 4.0 + 2.0 * 1;
  const double norm = 30.0 + 3 * w.kind_prior;
  const double sensitivity = (30.0 + 0.1) / norm * 1.0 / (1.0 + 16.0 / 256.0) +
                             0.1 / norm * 0.5 / (1.0 + 160.0 / 256.0) +
                             0.1 / norm * 0.25 / (1.0 + 600.0 / 256.0);
  // By default a model's whole cost, not per byte; per byte with size_exponent 1 (its 4 GiB).
  CHECK(CaceScorer().KeepValue(c) == Approx(demand * 2.0 * sensitivity));
  CaceWeights per_byte;
  per_byte.size_exponent = 1;
  CHECK(CaceScorer(per_byte).KeepValue(c) == Approx(demand * 2.0 * sensitivity / 4.0));
}

TEST_CASE("each CACE factor moves the keep-value the documented way") {
  CaceScorer scorer;
  ModelContext base = Context();
  base.window_counts = {5, 5, 0};
  const double v = scorer.KeepValue(base);

  ModelContext costlier = base;
  costlier.load_seconds = 4.0;
  CHECK(scorer.KeepValue(costlier) > v);

  ModelContext bigger = base;
  bigger.bytes = 8 * kGiB;
  CHECK(scorer.KeepValue(bigger) == Approx(v));  // size does not count by default
  CaceWeights per_byte;
  per_byte.size_exponent = 1;
  CHECK(CaceScorer(per_byte).KeepValue(bigger) < CaceScorer(per_byte).KeepValue(base));

  ModelContext busier = base;
  busier.window_counts = {10, 10, 0};
  CHECK(scorer.KeepValue(busier) > v);

  ModelContext queued = base;
  queued.queued_requests = 2;
  CHECK(scorer.KeepValue(queued) > v);

  ModelContext reasoning = base;
  reasoning.window_counts = {0, 0, 10};
  CHECK(scorer.KeepValue(reasoning) < v);  // same demand, less latency-sensitive work

  ModelContext verbose = base;
  verbose.expected_output_tokens = {400.0, 1600.0, 6000.0};
  CHECK(scorer.KeepValue(verbose) < v);

  ModelContext busy = base;
  busy.drain_seconds = 30;  // evicting it means waiting 30 s for its requests, with 4 queued
  busy.queue_window = 4;
  CHECK(scorer.KeepValue(busy) == Approx(v + 30.0 * 4));
  CHECK(CaceScorer(per_byte).KeepValue(busy) ==
        Approx(CaceScorer(per_byte).KeepValue(base) + 30.0 * 4 / 4.0));  // per GiB of its 4 GiB

  CaceWeights no_load;
  no_load.load_exponent = 0;
  CHECK(CaceScorer(no_load).KeepValue(costlier) == Approx(CaceScorer(no_load).KeepValue(base)));
}

TEST_CASE("the paper variant ranks by its reading of the summaries' formula") {
  PaperScorer scorer;
  ModelContext base = Context();
  base.idle_seconds = 30.0;
  base.queue_window = 10;
  const double v = scorer.KeepValue(base);

  ModelContext idle = base;
  idle.idle_seconds = 3000.0;
  CHECK(scorer.KeepValue(idle) < v);

  ModelContext costly = base;
  costly.load_seconds = 50.0;
  CHECK(scorer.KeepValue(costly) > v);

  ModelContext needed_soon = base;
  needed_soon.first_queue_position = 1;
  CHECK(scorer.KeepValue(needed_soon) > v);

  // -(recency + load + upcoming + w1*o) with o the plain mean of the kinds' expectations.
  const double expected = -((1.0 - 1.0 / (1.0 + std::log1p(30.0))) + 1.0 / (1.0 + 2.0 / 100.0) + 1.0 +
                            0.001 * (16.0 + 160.0 + 600.0) / 3.0);
  CHECK(v == Approx(expected));
}

}  // namespace
}  // namespace cace
