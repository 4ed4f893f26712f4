#include "lib/sim/calibration.h"

#include <cmath>

#include "fmt/format.h"
#include "lib/report/figures.h"
#include "lib/sim/policy_catalog.h"

namespace cace {

StabilityMeasure MeasureStability(std::span<const SimRequest> requests, const PolicyResult& result,
                                  const StabilityCriteria& criteria) {
  StabilityMeasure m;
  m.load_path_busy = result.simulated_seconds > 0
                         ? (result.load_seconds + result.drain_wait_seconds) / result.simulated_seconds
                         : 0.0;
  double sum = 0, tail_sum = 0;
  std::size_t n = 0, tail_n = 0;
  if (!requests.empty()) {
    const Seconds first = requests.front().arrival, last = requests.back().arrival;
    const Seconds tail_start = last - (last - first) / 4;
    for (std::size_t i = 0; i < requests.size() && i < result.ttft_samples.size(); ++i) {
      const double ttft = result.ttft_samples[i];
      if (std::isnan(ttft)) continue;
      sum += ttft;
      ++n;
      if (requests[i].arrival >= tail_start) {
        tail_sum += ttft;
        ++tail_n;
      }
    }
  }
  m.tail_ttft_ratio = n && tail_n && sum > 0 ? (tail_sum / static_cast<double>(tail_n)) /
                                                   (sum / static_cast<double>(n))
                                             : 1.0;
  m.stable = m.load_path_busy <= criteria.max_load_path_busy &&
             m.tail_ttft_ratio <= criteria.max_tail_ttft_ratio;
  return m;
}

absl::StatusOr<CalibrationSearch> SearchHighestStableRate(const ProbeFunction& probe,
                                                          const CalibrationGrid& grid) {
  if (!(grid.start > 0) || grid.steps_per_octave < 1 || !(grid.lowest > 0) ||
      !(grid.lowest <= grid.start && grid.start <= grid.highest)) {
    return absl::InvalidArgumentError(
        "calibration grid: need 0 < lowest <= start <= highest and steps_per_octave >= 1");
  }
  auto rate_at = [&grid](int k) {
    return grid.start * std::exp2(static_cast<double>(k) / grid.steps_per_octave);
  };
  CalibrationSearch search;
  int k = 0;
  absl::StatusOr<CalibrationProbe> first = probe(rate_at(0));
  if (!first.ok()) return first.status();
  search.probes.push_back(*first);
  const bool going_up = first->stable;
  if (going_up) search.chosen = first->rate_scale;
  while (true) {
    k += going_up ? 1 : -1;
    const double rate = rate_at(k);
    // A small tolerance so that grid points computed by exp2 still count as inside the bounds.
    if (rate > grid.highest * (1 + 1e-9)) break;
    if (rate < grid.lowest * (1 - 1e-9)) {
      return absl::NotFoundError(fmt::format(
          "calibration: unstable at every rate tried, down to x{:.6g}", rate_at(k + 1)));
    }
    absl::StatusOr<CalibrationProbe> next = probe(rate);
    if (!next.ok()) return next.status();
    search.probes.push_back(*next);
    if (going_up && !next->stable) break;
    if (going_up) search.chosen = next->rate_scale;
    if (!going_up && next->stable) {
      search.chosen = next->rate_scale;
      break;
    }
  }
  return search;
}

absl::StatusOr<CalibrationSearch> CalibrateRate(const ScenarioOptions& base, int seeds,
                                                const std::string& policy,
                                                const StabilityCriteria& criteria,
                                                const CalibrationGrid& grid) {
  absl::StatusOr<PolicySetup> setup = PolicyByName(policy, CatalogOptions{});
  if (!setup.ok()) return setup.status();
  auto probe = [&](double rate) -> absl::StatusOr<CalibrationProbe> {
    ScenarioOptions options = base;
    options.rate_scale = rate;
    absl::StatusOr<std::vector<Scenario>> scenarios = BuildSeedScenarios(options, seeds);
    if (!scenarios.ok()) return scenarios.status();
    CalibrationProbe p{.rate_scale = rate, .stable = true};
    for (const Scenario& scenario : *scenarios) {
      absl::StatusOr<PolicyResult> result =
          Simulate(scenario.fleet, scenario.requests, scenario.cost, *setup, scenario.simulation);
      if (!result.ok()) return result.status();
      StabilityMeasure m = MeasureStability(scenario.requests, *result, criteria);
      m.seed = scenario.info.seed;
      p.stable = p.stable && m.stable;
      p.seeds.push_back(m);
    }
    std::fprintf(stderr, "  calibration: x%.6g %s\n", rate, p.stable ? "stable" : "unstable");
    return p;
  };
  return SearchHighestStableRate(probe, grid);
}

std::string FormatCalibration(const CalibrationSearch& search, const StabilityCriteria& criteria,
                              const std::string& policy) {
  std::string out = fmt::format(
      "Calibration with {} alone: stable = load path (loading or waiting on drains) busy at most "
      "{:.0f} % of the replay and mean TTFT of the last quarter at most {:.2f} x the whole, on "
      "every seed\n",
      policy, criteria.max_load_path_busy * 100, criteria.max_tail_ttft_ratio);
  for (const CalibrationProbe& p : search.probes) {
    out += fmt::format("  rate x{:<9.6g} {}\n", p.rate_scale, p.stable ? "stable" : "unstable");
    for (const StabilityMeasure& m : p.seeds) {
      out += fmt::format("    seed {:>3}: load path busy {:>5.1f} %, last-quarter TTFT {:>6} x  {}\n",
                         m.seed, m.load_path_busy * 100, FigureText(m.tail_ttft_ratio, 2),
                         m.stable ? "stable" : "unstable");
    }
  }
  out += fmt::format("chosen rate: x{:.6g}\n", search.chosen);
  return out;
}

}  // namespace cace
