#include "lib/sim/sweep.h"

#include <algorithm>
#include <cstdio>

#include "fmt/format.h"
#include "lib/report/figures.h"
#include "lib/sim/policy_catalog.h"
#include "lib/sim/seed_summary.h"
#include "lib/sim/seed_summary_table.h"

namespace cace {
namespace {

std::string Header(bool several_seeds) {
  return fmt::format(
      "{:>5} {:>5} {:>8}  {:<14} {:>10} {:>10} {:>9} {:>9}  {:>8}{} {:>8} {:>8}\n", "rate", "fits",
      "budgetGB", "policy", "TTFT mean", "TTFT p95", "E2E mean", "evictions", "TTFT x",
      several_seeds ? fmt::format(" {:>12}", "TTFT x range") : "", "E2E x", "evict x");
}

std::string Row(double rate, int fits, std::uint64_t budget, const SeedSummary& s) {
  const bool several_seeds = s.seeds > 1;
  return fmt::format(
      "{:>5.1f} {:>5} {:>8.1f}  {:<14} {:>9}s {:>9}s {:>8}s {:>9}  {:>8}{} {:>8} {:>8}\n", rate,
      fits, static_cast<double>(budget) / 1e9, s.policy, FigureText(s.ttft_mean, 3),
      FigureText(s.ttft_p95, 3), FigureText(s.e2e_mean, 2),
      FigureText(s.evictions, several_seeds ? 1 : 0), FigureText(s.ttft_ratio, 3),
      several_seeds ? fmt::format(" {:>12}", TtftRatioRangeText(s)) : "",
      FigureText(s.e2e_ratio, 3), FigureText(s.evictions_ratio, 3));
}

// The online policies whose TTFT ratio is below cace's in this cell (the oracle is a bound).
std::string CaceLosses(double rate, int fits, const std::vector<SeedSummary>& summaries,
                       const std::string& baseline) {
  auto cace = std::find_if(summaries.begin(), summaries.end(),
                           [](const SeedSummary& s) { return s.policy == "cace"; });
  if (cace == summaries.end()) return "";
  std::string losses;
  for (const SeedSummary& s : summaries) {
    if (s.policy == "cace" || s.policy == "oracle" || !(s.ttft_ratio < cace->ttft_ratio)) continue;
    losses += fmt::format(
        "  rate x{:.1f}, {} models fit: {} has lower mean TTFT (ratio to {} {:.3f} vs {:.3f}; "
        "{:.3f} s vs {:.3f} s)\n",
        rate, fits, s.policy, baseline, s.ttft_ratio, cace->ttft_ratio, s.ttft_mean,
        cace->ttft_mean);
  }
  return losses;
}

absl::StatusOr<std::vector<PolicyResult>> ReplayAtBudget(const Scenario& scenario,
                                                         const std::vector<std::string>& policies,
                                                         std::uint64_t budget) {
  SimulationOptions simulation = scenario.simulation;
  simulation.memory_budget_bytes = budget;
  std::vector<PolicyResult> results;
  for (const std::string& name : policies) {
    absl::StatusOr<PolicySetup> setup = PolicyByName(name, CatalogOptions{budget});
    if (!setup.ok()) return setup.status();
    absl::StatusOr<PolicyResult> result =
        Simulate(scenario.fleet, scenario.requests, scenario.cost, *setup, simulation);
    if (!result.ok()) return result.status();
    results.push_back(*std::move(result));
  }
  return results;
}

}  // namespace

absl::StatusOr<std::string> RunMemoryRateSweep(const ScenarioOptions& base,
                                               const std::vector<std::string>& policies,
                                               const std::string& baseline, int seeds) {
  std::string table;
  if (seeds > 1) {
    table += fmt::format(
        "Seeds {}..{}: figures are means over the seeds, ratios to {} geometric means of the "
        "per-seed ratios\n",
        base.seed, base.seed + static_cast<std::uint64_t>(seeds) - 1, baseline);
  }
  table += Header(seeds > 1);
  std::string losses;
  std::vector<std::vector<double>> cell_ratios(policies.size());  // per policy, per cell
  for (double rate : {0.5, 1.0, 2.0, 4.0}) {
    ScenarioOptions options = base;
    options.rate_scale = EffectiveRateScale(base) * rate;
    // Built once per rate and replayed at every budget; only the assignment differs by seed.
    absl::StatusOr<std::vector<Scenario>> scenarios = BuildSeedScenarios(options, seeds);
    if (!scenarios.ok()) return scenarios.status();
    const std::vector<FleetModel>& fleet = scenarios->front().fleet;
    double mean_bytes = 0;
    for (const FleetModel& m : fleet) mean_bytes += static_cast<double>(m.weight_bytes);
    mean_bytes /= static_cast<double>(fleet.size());
    // One budget per cell for every seed, so seeds differ in traffic only.
    std::uint64_t minimum = 0;
    for (const Scenario& s : *scenarios) {
      minimum = std::max(minimum, MinimumBudget(fleet, s.requests));
    }
    for (int fits = 2; fits <= 6; ++fits) {
      const auto budget = std::max(static_cast<std::uint64_t>(fits * mean_bytes), minimum);
      std::vector<std::vector<PolicyResult>> per_seed;
      for (const Scenario& scenario : *scenarios) {
        absl::StatusOr<std::vector<PolicyResult>> results =
            ReplayAtBudget(scenario, policies, budget);
        if (!results.ok()) return results.status();
        per_seed.push_back(*std::move(results));
      }
      std::fprintf(stderr, "  sweep: rate x%.1f, %d models fit: done\n", rate, fits);
      absl::StatusOr<std::vector<SeedSummary>> summaries = SummarizeSeeds(per_seed, baseline);
      if (!summaries.ok()) return summaries.status();
      for (std::size_t i = 0; i < summaries->size(); ++i) {
        table += Row(rate, fits, budget, (*summaries)[i]);
        cell_ratios[i].push_back((*summaries)[i].ttft_ratio);
      }
      losses += CaceLosses(rate, fits, *summaries, baseline);
    }
  }
  table += "\nCells where cace loses on mean TTFT:\n";
  table += losses.empty() ? "  none\n" : losses;
  // Every cell has the same seeds, so the geometric mean of the cells' geometric means is that of
  // every (cell, seed) ratio.
  table += fmt::format(
      "\nOver all cells and seeds: geometric mean of the TTFT ratio to {}; cells where it is "
      "below 1\n",
      baseline);
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const auto below =
        std::count_if(cell_ratios[i].begin(), cell_ratios[i].end(), [](double r) { return r < 1; });
    table +=
        fmt::format("  {:<14} {:>7}  {} of {} cells\n", policies[i],
                    FigureText(GeometricMean(cell_ratios[i]), 3), below, cell_ratios[i].size());
  }
  return table;
}

}  // namespace cace
