// Figures across seeds on results made by hand: means, geometric means of ratios, wins, and the
// cases where a ratio is not defined.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lib/sim/seed_summary.h"
#include "lib/report/figures.h"
#include "lib/sim/seed_summary_table.h"

namespace cace {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PolicyResult Result(std::string policy, double ttft_mean, double ttft_p95, double e2e_mean,
                    std::uint64_t evictions) {
  PolicyResult r;
  r.policy = std::move(policy);
  r.ttft = LatencyStats{.count = 10, .mean = ttft_mean, .p95 = ttft_p95};
  r.e2e = LatencyStats{.count = 10, .mean = e2e_mean};
  r.evictions = evictions;
  return r;
}

// Seed 1: cace halves lru's figures, gdsf quarters them. Seed 2: cace doubles them, gdsf matches
// lru's TTFT and quadruples its E2E and evictions.
std::vector<std::vector<PolicyResult>> TwoSeeds() {
  return {{Result("lru", 10, 20, 12, 100), Result("cace", 5, 10, 6, 50),
           Result("gdsf", 2.5, 5, 3, 25)},
          {Result("lru", 10, 30, 12, 100), Result("cace", 20, 40, 24, 200),
           Result("gdsf", 10, 30, 48, 400)}};
}

TEST_CASE("seed summary: means of the figures, geometric means of the per-seed ratios") {
  const auto summaries = SummarizeSeeds(TwoSeeds(), "lru");
  REQUIRE(summaries.ok());
  REQUIRE(summaries->size() == 3);
  const SeedSummary& lru = (*summaries)[0];
  const SeedSummary& cace = (*summaries)[1];
  const SeedSummary& gdsf = (*summaries)[2];

  CHECK(cace.policy == "cace");
  CHECK(cace.seeds == 2);
  CHECK(cace.ttft_mean == Approx(12.5));
  CHECK(cace.ttft_p95 == Approx(25));
  CHECK(cace.e2e_mean == Approx(15));
  CHECK(cace.evictions == Approx(125));
  // Ratios 0.5 and 2.0: the geometric mean is 1.0 (the arithmetic one would say 1.25).
  CHECK(cace.ttft_ratio == Approx(1.0));
  CHECK(cace.e2e_ratio == Approx(1.0));
  CHECK(cace.evictions_ratio == Approx(1.0));
  CHECK(cace.ttft_ratio_min == Approx(0.5));
  CHECK(cace.ttft_ratio_max == Approx(2.0));
  CHECK(cace.ttft_wins == 1);

  // TTFT ratios 0.25 and 1.0 -> 0.5; a tie with the baseline is no win. E2E 0.25 and 4 -> 1.
  CHECK(gdsf.ttft_ratio == Approx(0.5));
  CHECK(gdsf.e2e_ratio == Approx(1.0));
  CHECK(gdsf.evictions_ratio == Approx(1.0));
  CHECK(gdsf.ttft_ratio_min == Approx(0.25));
  CHECK(gdsf.ttft_ratio_max == Approx(1.0));
  CHECK(gdsf.ttft_wins == 1);

  CHECK(lru.ttft_ratio == Approx(1.0));
  CHECK(lru.ttft_ratio_min == Approx(1.0));
  CHECK(lru.ttft_ratio_max == Approx(1.0));
  CHECK(lru.ttft_wins == 0);
  CHECK(lru.ttft_p95 == Approx(25));
}

TEST_CASE("seed summary: one seed gives that seed's plain ratios") {
  const std::vector<std::vector<PolicyResult>> one = {TwoSeeds()[0]};
  const auto summaries = SummarizeSeeds(one, "lru");
  REQUIRE(summaries.ok());
  const SeedSummary& gdsf = (*summaries)[2];
  CHECK(gdsf.seeds == 1);
  CHECK(gdsf.ttft_mean == 2.5);
  CHECK(gdsf.evictions == 25);
  CHECK(gdsf.ttft_ratio == Approx(0.25));
  CHECK(gdsf.evictions_ratio == Approx(0.25));
  CHECK(gdsf.ttft_wins == 1);
}

TEST_CASE("seed summary: a zero or absent baseline figure leaves that ratio absent") {
  std::vector<std::vector<PolicyResult>> seeds = TwoSeeds();
  seeds[1][0].evictions = 0;          // no eviction to compare with in seed 2
  seeds[1][0].ttft = LatencyStats{};  // no request measured: the mean is absent, not 0 s
  const auto summaries = SummarizeSeeds(seeds, "lru");
  REQUIRE(summaries.ok());
  const SeedSummary& cace = (*summaries)[1];
  CHECK(std::isnan(cace.ttft_ratio));
  CHECK(std::isnan(cace.ttft_ratio_min));
  CHECK(std::isnan(cace.ttft_ratio_max));
  CHECK(std::isnan(cace.evictions_ratio));
  CHECK(cace.e2e_ratio == Approx(1.0));  // E2E is still defined in both seeds
  CHECK(cace.ttft_wins == 1);            // seed 1 only
  CHECK(std::isnan((*summaries)[0].ttft_mean));

  const std::string block = FormatSeedSummary(*summaries, 1, "lru");
  CHECK(block.find("nan") == std::string::npos);
  CHECK(block.find("inf") == std::string::npos);
}

TEST_CASE("seed summary: an unknown baseline, differing policies or no seed are errors") {
  const auto unknown = SummarizeSeeds(TwoSeeds(), "ollama");
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(unknown.status().message()).find("'ollama'") != std::string::npos);

  std::vector<std::vector<PolicyResult>> seeds = TwoSeeds();
  seeds[1].pop_back();
  const auto differing = SummarizeSeeds(seeds, "lru");
  CHECK(differing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(differing.status().message()).find("lru, cace against lru, cace, gdsf") !=
        std::string::npos);

  CHECK(SummarizeSeeds({}, "lru").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("geometric mean: of positive figures, 0 with a 0, absent otherwise") {
  CHECK(GeometricMean(std::vector<double>{0.5, 2.0}) == Approx(1.0));
  CHECK(GeometricMean(std::vector<double>{1.0, 4.0, 2.0}) == Approx(2.0));
  CHECK(GeometricMean(std::vector<double>{0.0, 4.0}) == 0.0);
  CHECK(std::isnan(GeometricMean(std::vector<double>{})));
  CHECK(std::isnan(GeometricMean(std::vector<double>{1.0, kNaN})));
  CHECK(std::isnan(GeometricMean(std::vector<double>{-1.0, 2.0})));
  CHECK(std::isnan(GeometricMean(std::vector<double>{std::numeric_limits<double>::infinity()})));
}

TEST_CASE("the across-seeds block names the seeds and the baseline, and shows range and wins") {
  const auto summaries = SummarizeSeeds(TwoSeeds(), "lru");
  REQUIRE(summaries.ok());
  const std::string block = FormatSeedSummary(*summaries, 7, "lru");
  CHECK(block.find("Across seeds 7..8 (geometric mean of per-seed ratios to lru)") !=
        std::string::npos);
  CHECK(block.find("0.500-2.000") != std::string::npos);  // cace's range
  CHECK(block.find("0.250-1.000") != std::string::npos);  // gdsf's
  CHECK(block.find("1/2") != std::string::npos);
  CHECK(block.find("0/2") != std::string::npos);
  CHECK(FigureText(kNaN, 3) == "-");
  CHECK(FigureText(1.23456, 3) == "1.235");
}

}  // namespace
}  // namespace cace
