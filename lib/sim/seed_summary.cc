#include "lib/sim/seed_summary.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "lib/report/figures.h"

namespace cace {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string PolicyList(const std::vector<PolicyResult>& results) {
  std::vector<std::string_view> names;
  for (const PolicyResult& r : results) names.push_back(r.policy);
  return fmt::to_string(fmt::join(names, ", "));
}

bool SamePolicies(const std::vector<PolicyResult>& a, const std::vector<PolicyResult>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(),
      [](const PolicyResult& x, const PolicyResult& y) { return x.policy == y.policy; });
}

double Mean(std::span<const double> values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double TtftMean(const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::mean); }
double TtftP95(const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::p95); }
double E2eMean(const PolicyResult& r) { return StatOrNaN(r.e2e, &LatencyStats::mean); }
double Evictions(const PolicyResult& r) { return static_cast<double>(r.evictions); }

// Policy `index`'s figure `of` in every seed, and its ratio to the baseline's in the same seed.
struct Series {
  std::vector<double> values, ratios;
};

Series Collect(std::span<const std::vector<PolicyResult>> per_seed, std::size_t index,
               std::span<const PolicyResult* const> baselines, double (*of)(const PolicyResult&)) {
  Series series;
  for (std::size_t s = 0; s < per_seed.size(); ++s) {
    series.values.push_back(of(per_seed[s][index]));
    series.ratios.push_back(Ratio(series.values.back(), of(*baselines[s])));
  }
  return series;
}

}  // namespace

double GeometricMean(std::span<const double> values) {
  if (values.empty()) return kNaN;
  double log_sum = 0;
  for (double v : values) {
    if (!std::isfinite(v) || v < 0) return kNaN;
    log_sum += std::log(v);  // -inf for a 0, which the mean keeps: exp(-inf) is 0
  }
  return std::exp(log_sum / static_cast<double>(values.size()));
}

absl::StatusOr<std::vector<SeedSummary>> SummarizeSeeds(
    std::span<const std::vector<PolicyResult>> per_seed, std::string_view baseline) {
  if (per_seed.empty()) return absl::InvalidArgumentError("no seed to summarize");
  for (std::size_t s = 1; s < per_seed.size(); ++s) {
    if (!SamePolicies(per_seed[s], per_seed[0])) {
      return absl::InvalidArgumentError(fmt::format(
          "seed #{} replayed other policies than seed #1 ({} against {}): figures across seeds "
          "compare only the same policies",
          s + 1, PolicyList(per_seed[s]), PolicyList(per_seed[0])));
    }
  }
  std::vector<const PolicyResult*> baselines;
  for (const std::vector<PolicyResult>& results : per_seed) {
    baselines.push_back(FindPolicy(results, baseline));
    if (baselines.back() == nullptr) {
      return absl::NotFoundError(fmt::format(
          "baseline '{}' is not among the policies replayed ({})", baseline, PolicyList(results)));
    }
  }

  std::vector<SeedSummary> summaries;
  for (std::size_t i = 0; i < per_seed[0].size(); ++i) {
    const Series ttft = Collect(per_seed, i, baselines, TtftMean);
    const Series e2e = Collect(per_seed, i, baselines, E2eMean);
    const Series evictions = Collect(per_seed, i, baselines, Evictions);
    SeedSummary summary{.policy = per_seed[0][i].policy,
                        .seeds = static_cast<int>(per_seed.size())};
    summary.ttft_mean = Mean(ttft.values);
    summary.ttft_p95 = Mean(Collect(per_seed, i, baselines, TtftP95).values);
    summary.e2e_mean = Mean(e2e.values);
    summary.evictions = Mean(evictions.values);
    summary.ttft_ratio = GeometricMean(ttft.ratios);
    summary.ttft_p95_ratio = GeometricMean(Collect(per_seed, i, baselines, TtftP95).ratios);
    const Series completion = Collect(per_seed, i, baselines, CompletionTtftMean);
    summary.completion_ttft_mean = Mean(completion.values);
    summary.completion_ttft_ratio = GeometricMean(completion.ratios);
    std::vector<double> penalty;
    for (std::size_t s = 0; s < per_seed.size(); ++s) {
      const PolicyResult* floor = FindPolicy(per_seed[s], kFloorPolicyName);
      penalty.push_back(floor == nullptr ? kNaN
                                         : PenaltyLeft(TtftMean(per_seed[s][i]), TtftMean(*floor),
                                                       TtftMean(*baselines[s])));
    }
    summary.ttft_penalty_left = Mean(penalty);
    summary.e2e_ratio = GeometricMean(e2e.ratios);
    summary.evictions_ratio = GeometricMean(evictions.ratios);
    // A range with an undefined ratio in it is no range: NaN as well.
    const bool defined = std::none_of(ttft.ratios.begin(), ttft.ratios.end(),
                                      [](double r) { return std::isnan(r); });
    const auto [low, high] = std::minmax_element(ttft.ratios.begin(), ttft.ratios.end());
    summary.ttft_ratio_min = defined ? *low : kNaN;
    summary.ttft_ratio_max = defined ? *high : kNaN;
    // NaN compares false: a seed without a defined TTFT is no win.
    summary.ttft_wins = static_cast<int>(
        std::count_if(ttft.ratios.begin(), ttft.ratios.end(), [](double r) { return r < 1; }));
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

}  // namespace cace
