// cace_replay: replays a code-assistant workload through several serving policies on a simulated
// accelerator and prints their comparison. The README's main job.
//
//   cace_replay                           the default scenario, every policy
//   cace_replay --ablation                CACE with each factor removed, beside LRU and CACE
//   cace_replay --sweep                   memory x arrival-rate sweep, CACE against the baselines
//   cace_replay --seeds 5                 seeds 1..5 of the model assignment, summarized across
//                                         them (with --sweep: every cell with each seed)
//   cace_replay --trace my.csv --fleet my_fleet.csv --gpu h100 --budget_gb 70 --policies lru,cace
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "lib/report/replay_report.h"
#include "fmt/format.h"
#include "lib/sim/calibration.h"
#include "lib/sim/physical_floor.h"
#include "lib/sim/policy_catalog.h"
#include "lib/sim/scenario.h"
#include "lib/sim/seed_summary.h"
#include "lib/sim/seed_summary_table.h"
#include "lib/sim/sweep.h"

ABSL_FLAG(std::string, trace, "", "trace in the documented CSV format (default: the Azure 2023 hour)");
ABSL_FLAG(std::string, fleet, CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv", "fleet CSV");
ABSL_FLAG(std::string, data, CACE_DATA_DIR, "folder holding traces/ (the public traces, data/ of the repository)");
ABSL_FLAG(std::string, gpu, "l40s", "accelerator: h100, l40s or a10");
ABSL_FLAG(double, budget_gb, 0, "memory budget in GB (default: the accelerator's memory less 2 GB)");
ABSL_FLAG(double, host_cache_gb, 0,
          "host-memory cache of evicted weights in GB (0: none; reloads then read the weights' source)");
ABSL_FLAG(bool, host_cache_pageable, false, "the host cache is pageable memory (half the link's speed), not pinned");
ABSL_FLAG(bool, prefetch, false, "load evicted models into free memory while the load path is idle");
ABSL_FLAG(std::string, assignment, "servegen",
          "how the default traffic gets its models: servegen (derived from the ServeGen "
          "statistics, the default) or collapsed (the earlier Zipf rule at its rate: overload)");
ABSL_FLAG(bool, assignment_facts, false,
          "print the ServeGen assignment's parameters beside the facts they come from, and which "
          "model holds each rank for the seeds, then stop");
ABSL_FLAG(bool, calibrate, false,
          "find the highest rate scale at which LRU alone is stable on the five seeds seed.."
          "seed+4 (load path busy <= 70 %, last-quarter mean TTFT <= 1.5 x the whole), print the "
          "search, then stop");
ABSL_FLAG(double, rate_scale, 0,
          "arrival-rate multiplier of the trace (0: the assignment's default, the calibrated "
          "rate for servegen, x0.125 for collapsed; 1 for --trace)");
ABSL_FLAG(std::uint64_t, seed, 1, "seed of the model-assignment rule");
ABSL_FLAG(int, sessions, 16,
          "open sessions per traffic class in the model assignment (0: each class's request rate "
          "x the time between one user's requests, 10 s for completions and 60 s for chat)");
ABSL_FLAG(int, seeds, 1,
          "replay seeds seed..seed+N-1 and summarize across them (geometric mean of the per-seed "
          "ratios to the baseline, their range, seeds won); the full table, JSON, CSV and SVG "
          "stay the first seed's; with --sweep every cell is replayed with each seed");
ABSL_FLAG(std::string, policies, "", "comma-separated policies (default: every comparison policy)");
ABSL_FLAG(std::string, baseline, "lru", "policy the ratios are taken against");
ABSL_FLAG(bool, floor, true,
          "also replay the physical floor (memory for every model, each model loads once) and "
          "show each policy's share of the baseline's swap penalty left");
ABSL_FLAG(bool, ablation, false, "also run CACE with each factor removed");
ABSL_FLAG(bool, sweep, false, "run the memory x rate sweep instead of one scenario");
ABSL_FLAG(std::string, json, "", "write every figure as JSON to this file");
ABSL_FLAG(std::string, csv, "", "write the figures as CSV to this file");
ABSL_FLAG(std::string, svg, "", "draw the TTFT distributions and evictions over time to this SVG");

namespace cace {
namespace {

std::vector<std::string> ChosenPolicies() {
  std::vector<std::string> names;
  const std::string flag = absl::GetFlag(FLAGS_policies);
  if (flag.empty()) {
    names = ComparisonPolicyNames();
  } else {
    for (absl::string_view name : absl::StrSplit(flag, ',', absl::SkipEmpty())) names.emplace_back(name);
  }
  if (absl::GetFlag(FLAGS_ablation)) {
    for (const std::string& name : AblationPolicyNames()) names.push_back(name);
  }
  return names;
}

absl::StatusOr<ScenarioOptions> ChosenScenario() {
  absl::StatusOr<AssignmentRule> rule = AssignmentRuleByName(absl::GetFlag(FLAGS_assignment));
  if (!rule.ok()) return rule.status();
  ScenarioOptions options;
  options.assignment = *rule;
  options.data_dir = absl::GetFlag(FLAGS_data);
  options.fleet_path = absl::GetFlag(FLAGS_fleet);
  options.trace_path = absl::GetFlag(FLAGS_trace);
  options.accelerator = absl::GetFlag(FLAGS_gpu);
  options.budget_bytes = absl::GetFlag(FLAGS_budget_gb) * 1e9;
  options.host_cache_bytes = absl::GetFlag(FLAGS_host_cache_gb) * 1e9;
  options.cost.host_cache_pinned = !absl::GetFlag(FLAGS_host_cache_pageable);
  options.prefetch = absl::GetFlag(FLAGS_prefetch);
  options.rate_scale = absl::GetFlag(FLAGS_rate_scale);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.sessions = absl::GetFlag(FLAGS_sessions);
  return options;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "cace_replay: %s\n", std::string(status.message()).c_str());
  return 1;
}

// Several seeds are only worth replaying when they change the traffic; summaries across seeds and
// the sweep compare every seed with the baseline, so it must be replayed too.
absl::Status CheckSeeds(int seeds) {
  if (seeds < 1) {
    return absl::InvalidArgumentError(fmt::format("--seeds {}: must be at least 1", seeds));
  }
  if (seeds > 1 && !absl::GetFlag(FLAGS_trace).empty()) {
    return absl::InvalidArgumentError(
        "--seeds: a --trace names its own models, so every seed would replay the same traffic");
  }
  if (seeds == 1 && !absl::GetFlag(FLAGS_sweep)) return absl::OkStatus();  // ratios optional
  const std::string baseline = absl::GetFlag(FLAGS_baseline);
  const std::vector<std::string> policies = ChosenPolicies();
  if (std::find(policies.begin(), policies.end(), baseline) == policies.end()) {
    return absl::InvalidArgumentError(fmt::format(
        "--baseline {} is not among the policies replayed: add it to --policies", baseline));
  }
  return absl::OkStatus();
}

// Replays `scenario` through every chosen policy, a progress line each on stderr.
absl::StatusOr<std::vector<PolicyResult>> ReplayChosenPolicies(const Scenario& scenario) {
  const CatalogOptions catalog{scenario.simulation.memory_budget_bytes};
  std::vector<PolicyResult> results;
  for (const std::string& name : ChosenPolicies()) {
    absl::StatusOr<PolicySetup> setup = PolicyByName(name, catalog);
    if (!setup.ok()) return setup.status();
    SimulationOptions simulation = scenario.simulation;
    if (isatty(fileno(stderr))) {  // a progress line for a person watching, not for a log
      simulation.progress = [&name](double done) {
        std::fprintf(stderr, "\r  %-18s %3.0f %%", name.c_str(), done * 100);
      };
    }
    absl::StatusOr<PolicyResult> result =
        Simulate(scenario.fleet, scenario.requests, scenario.cost, *setup, simulation);
    if (!result.ok()) return result.status();
    std::fprintf(stderr, "\r  %-18s done in %.2f s\n", name.c_str(), result->replay_wall_seconds);
    results.push_back(*std::move(result));
  }
  return results;
}

int RunComparison() {
  const int seeds = absl::GetFlag(FLAGS_seeds);
  absl::StatusOr<ScenarioOptions> options = ChosenScenario();
  if (!options.ok()) return Fail(options.status());
  absl::StatusOr<std::vector<Scenario>> scenarios = BuildSeedScenarios(*options, seeds);
  if (!scenarios.ok()) return Fail(scenarios.status());
  std::vector<std::vector<PolicyResult>> per_seed;
  for (const Scenario& scenario : *scenarios) {
    if (seeds > 1) fmt::print(stderr, "seed {}\n", scenario.info.seed);
    absl::StatusOr<std::vector<PolicyResult>> results = ReplayChosenPolicies(scenario);
    if (!results.ok()) return Fail(results.status());
    if (absl::GetFlag(FLAGS_floor)) {
      absl::StatusOr<PolicyResult> floor = ReplayPhysicalFloor(scenario);
      if (!floor.ok()) return Fail(floor.status());
      results->push_back(*std::move(floor));
    }
    per_seed.push_back(*std::move(results));
  }
  // Every detailed output shows one trajectory, the first seed's; the block after the table is
  // the one that speaks for every seed.
  ScenarioInfo info = scenarios->front().info;
  const std::vector<PolicyResult>& results = per_seed.front();
  if (seeds > 1) {
    info.notes.push_back(fmt::format(
        "--seeds {}: these figures are seed {}'s alone; the terminal output summarizes seeds "
        "{}..{} after the table",
        seeds, info.seed, info.seed, info.seed + static_cast<std::uint64_t>(seeds) - 1));
  }
  const std::string baseline = absl::GetFlag(FLAGS_baseline);
  std::fputs(FormatResultsTable(info, results, baseline).c_str(), stdout);
  if (seeds > 1) {
    absl::StatusOr<std::vector<SeedSummary>> summaries = SummarizeSeeds(per_seed, baseline);
    if (!summaries.ok()) return Fail(summaries.status());
    std::fputs(FormatSeedSummary(*summaries, info.seed, baseline).c_str(), stdout);
  }
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    if (absl::Status s = WriteResultsJson(path, info, results, baseline); !s.ok()) return Fail(s);
  }
  if (const std::string path = absl::GetFlag(FLAGS_csv); !path.empty()) {
    if (absl::Status s = WriteResultsCsv(path, results); !s.ok()) return Fail(s);
  }
  if (const std::string path = absl::GetFlag(FLAGS_svg); !path.empty()) {
    if (absl::Status s = WriteResultsSvg(path, info, results); !s.ok()) return Fail(s);
  }
  return 0;
}

int RunSweep() {
  absl::StatusOr<ScenarioOptions> options = ChosenScenario();
  if (!options.ok()) return Fail(options.status());
  absl::StatusOr<std::string> table = RunMemoryRateSweep(
      *options, ChosenPolicies(), absl::GetFlag(FLAGS_baseline), absl::GetFlag(FLAGS_seeds));
  if (!table.ok()) return Fail(table.status());
  std::fputs(table->c_str(), stdout);
  return 0;
}

// The rule of the default scenario: LRU, five seeds, the grid x0.125 * 2^(k/4).
int RunCalibration() {
  constexpr int kCalibrationSeeds = 5;
  absl::StatusOr<ScenarioOptions> options = ChosenScenario();
  if (!options.ok()) return Fail(options.status());
  const StabilityCriteria criteria;
  absl::StatusOr<CalibrationSearch> search =
      CalibrateRate(*options, kCalibrationSeeds, "lru", criteria, CalibrationGrid{});
  if (!search.ok()) return Fail(search.status());
  std::fputs(FormatCalibration(*search, criteria, "lru").c_str(), stdout);
  return 0;
}

int RunAssignmentFacts() {
  absl::StatusOr<ScenarioOptions> options = ChosenScenario();
  if (!options.ok()) return Fail(options.status());
  absl::StatusOr<std::string> text = DescribeServeGenAssignment(*options, absl::GetFlag(FLAGS_seeds));
  if (!text.ok()) return Fail(text.status());
  std::fputs(text->c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace cace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "replays a code-assistant workload through serving policies on a simulated accelerator; "
      "--seeds N compares them across N seeds of the model assignment");
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = cace::CheckSeeds(absl::GetFlag(FLAGS_seeds)); !s.ok()) return cace::Fail(s);
  if (absl::GetFlag(FLAGS_assignment_facts)) return cace::RunAssignmentFacts();
  if (absl::GetFlag(FLAGS_calibrate)) return cace::RunCalibration();
  return absl::GetFlag(FLAGS_sweep) ? cace::RunSweep() : cace::RunComparison();
}
