#include "lib/sim/sweep.h"

#include <algorithm>
#include <cstdio>

#include "fmt/format.h"
#include "lib/sim/policy_catalog.h"

namespace cace {

absl::StatusOr<std::string> RunMemoryRateSweep(const ScenarioOptions& base,
                                               const std::vector<std::string>& policies,
                                               const std::string& baseline) {
  std::string table = fmt::format(
      "{:>5} {:>5} {:>8}  {:<14} {:>10} {:>10} {:>9} {:>9}  {:>8} {:>8} {:>8}\n", "rate", "fits",
      "budgetGB", "policy", "TTFT mean", "TTFT p95", "E2E mean", "evictions", "TTFT x", "E2E x",
      "evict x");
  std::string losses;
  for (double rate : {0.5, 1.0, 2.0, 4.0}) {
    ScenarioOptions options = base;
    options.rate_scale = base.rate_scale * rate;
    absl::StatusOr<Scenario> scenario = BuildScenario(options);
    if (!scenario.ok()) return scenario.status();
    double mean_bytes = 0;
    for (const FleetModel& m : scenario->fleet) mean_bytes += static_cast<double>(m.weight_bytes);
    mean_bytes /= static_cast<double>(scenario->fleet.size());
    const std::uint64_t minimum = MinimumBudget(scenario->fleet, scenario->requests);
    for (int fits = 2; fits <= 6; ++fits) {
      const auto budget = std::max(static_cast<std::uint64_t>(fits * mean_bytes), minimum);
      SimulationOptions simulation = scenario->simulation;
      simulation.memory_budget_bytes = budget;
      std::vector<PolicyResult> results;
      for (const std::string& name : policies) {
        absl::StatusOr<PolicySetup> setup = PolicyByName(name, CatalogOptions{budget});
        if (!setup.ok()) return setup.status();
        absl::StatusOr<PolicyResult> result =
            Simulate(scenario->fleet, scenario->requests, scenario->cost, *setup, simulation);
        if (!result.ok()) return result.status();
        results.push_back(*std::move(result));
      }
      std::fprintf(stderr, "  sweep: rate x%.1f, %d models fit: done\n", rate, fits);
      auto find = [&](const std::string& name) -> const PolicyResult* {
        auto it = std::find_if(results.begin(), results.end(),
                               [&](const PolicyResult& r) { return r.policy == name; });
        return it == results.end() ? nullptr : &*it;
      };
      const PolicyResult* reference = find(baseline);
      for (const PolicyResult& r : results) {
        auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
        table += fmt::format(
            "{:>5.1f} {:>5} {:>8.1f}  {:<14} {:>9.3f}s {:>9.3f}s {:>8.2f}s {:>9}  {:>8.3f} {:>8.3f} {:>8.3f}\n",
            rate, fits, static_cast<double>(budget) / 1e9, r.policy, r.ttft.mean, r.ttft.p95, r.e2e.mean,
            r.evictions, reference ? ratio(r.ttft.mean, reference->ttft.mean) : 0.0,
            reference ? ratio(r.e2e.mean, reference->e2e.mean) : 0.0,
            reference ? ratio(static_cast<double>(r.evictions), static_cast<double>(reference->evictions)) : 0.0);
      }
      if (const PolicyResult* cace = find("cace")) {
        for (const PolicyResult& r : results) {
          if (r.policy == "cace" || r.policy == "oracle") continue;
          if (r.ttft.mean < cace->ttft.mean) {
            losses += fmt::format("  rate x{:.1f}, {} models fit: {} has lower mean TTFT ({:.3f} s vs {:.3f} s)\n",
                                  rate, fits, r.policy, r.ttft.mean, cace->ttft.mean);
          }
        }
      }
    }
  }
  table += "\nCells where cace loses on mean TTFT:\n";
  table += losses.empty() ? "  none\n" : losses;
  return table;
}

}  // namespace cace
