#include "lib/sim/scenario.h"

#include <algorithm>

#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/client_assignment.h"
#include "lib/workload/servegen_facts.h"

namespace cace {
namespace {

std::string ServeGenDir(const ScenarioOptions& options) {
  return options.data_dir + "/traces/servegen";
}

absl::StatusOr<ServeGenAssignmentParameters> ServeGenParameters(const ScenarioOptions& options,
                                                                ServeGenFacts* facts_out) {
  absl::StatusOr<ServeGenFacts> facts = ReadServeGenFacts(ServeGenDir(options));
  if (!facts.ok()) return facts.status();
  absl::StatusOr<ServeGenAssignmentParameters> params = DeriveAssignmentParameters(*facts);
  if (params.ok() && facts_out != nullptr) *facts_out = *std::move(facts);
  return params;
}

// "name (share)" of each rank of a class for a seed.
std::string RankHolders(const std::vector<FleetModel>& fleet, const ServeGenAssignmentParameters& params,
                        bool completion, std::uint64_t seed) {
  const std::vector<std::size_t> ranked = RankedModels(fleet, completion, seed);
  const std::vector<double> shares = RankShares(params, ranked.size());
  std::string text;
  for (std::size_t r = 0; r < ranked.size(); ++r) {
    text += fmt::format("{}{} {:.3f}", r ? ", " : "", fleet[ranked[r]].name, shares[r]);
  }
  return text;
}

}  // namespace

absl::StatusOr<AssignmentRule> AssignmentRuleByName(std::string_view name) {
  if (name == "servegen") return AssignmentRule::kServeGen;
  if (name == "collapsed") return AssignmentRule::kCollapsed;
  return absl::InvalidArgumentError(
      fmt::format("unknown assignment '{}'; known: servegen, collapsed", name));
}

double EffectiveRateScale(const ScenarioOptions& options) {
  if (options.rate_scale > 0) return options.rate_scale;
  if (!options.trace_path.empty()) return 1.0;
  return options.assignment == AssignmentRule::kServeGen ? kServeGenDefaultRateScale
                                                         : kCollapsedRateScale;
}

std::uint64_t MinimumBudget(const std::vector<FleetModel>& fleet,
                            const std::vector<SimRequest>& requests) {
  std::uint64_t minimum = 0;
  for (const FleetModel& m : fleet) minimum = std::max(minimum, m.weight_bytes);
  for (const SimRequest& r : requests) {
    const FleetModel& m = fleet[r.model];
    // What the serving core reserves for the request (Submit refuses it when this does not fit).
    minimum = std::max(minimum, m.weight_bytes + KvReservationBytes(r.prompt_tokens, r.OutputLimit(),
                                                                    m.kv_bytes_per_token));
  }
  return minimum;
}

absl::StatusOr<Scenario> BuildScenario(const ScenarioOptions& options) {
  absl::StatusOr<Accelerator> accelerator = AcceleratorByName(options.accelerator);
  if (!accelerator.ok()) return accelerator.status();
  absl::StatusOr<std::vector<FleetModel>> fleet = ReadFleetCsv(options.fleet_path);
  if (!fleet.ok()) return fleet.status();

  Scenario scenario{.cost = CostModel(*accelerator, options.cost)};
  const double rate_scale = EffectiveRateScale(options);
  scenario.fleet = *std::move(fleet);
  std::vector<TraceRequest> trace;
  std::string trace_name;
  if (options.trace_path.empty()) {
    auto code = ReadAzureTrace(options.data_dir + "/traces/azure_llm_2023_code.csv");
    if (!code.ok()) return code.status();
    auto conv = ReadAzureTrace(options.data_dir + "/traces/azure_llm_2023_conv.csv");
    if (!conv.ok()) return conv.status();
    absl::StatusOr<std::vector<TraceRequest>> assigned;
    if (options.assignment == AssignmentRule::kServeGen) {
      absl::StatusOr<ServeGenAssignmentParameters> params = ServeGenParameters(options, nullptr);
      if (!params.ok()) return params.status();
      assigned = AssignModelsByClients(
          *code, *conv, scenario.fleet,
          ClientAssignmentOptions{.seed = options.seed, .rate_scale = rate_scale, .parameters = *params});
      scenario.info.notes.push_back(fmt::format(
          "models: ServeGen-derived clients and drifting shares (--assignment_facts); completion "
          "ranks: {}; conversation ranks: {}",
          RankHolders(scenario.fleet, *params, true, options.seed),
          RankHolders(scenario.fleet, *params, false, options.seed)));
    } else {
      AssignmentOptions assignment{
          .seed = options.seed, .sessions = options.sessions, .rate_scale = rate_scale};
      assigned = AssignModels(*code, *conv, scenario.fleet, assignment);
      scenario.info.notes.push_back(
          "models: the collapsed rule (Zipf 1.1 reshuffled every 15 min, sessions per class)");
    }
    if (!assigned.ok()) return assigned.status();
    trace = *std::move(assigned);
    trace_name = "Azure LLM inference 2023: code + conversation hour, merged";
  } else {
    auto read = ReadTraceCsv(options.trace_path);
    if (!read.ok()) return read.status();
    trace = *std::move(read);
    if (rate_scale != 1.0) {
      for (TraceRequest& r : trace) r.arrival /= rate_scale;
    }
    trace_name = options.trace_path;
  }
  auto requests = ResolveTrace(trace, scenario.fleet, TaskClassifier());
  if (!requests.ok()) return requests.status();
  scenario.requests = *std::move(requests);

  const double budget = options.budget_bytes > 0
                            ? options.budget_bytes
                            : static_cast<double>(accelerator->memory_bytes - kRuntimeReserveBytes);
  scenario.simulation.memory_budget_bytes = static_cast<std::uint64_t>(budget);
  scenario.simulation.slo_ttft = options.slo_ttft;
  if (!(options.host_cache_bytes >= 0)) {
    return absl::InvalidArgumentError(fmt::format("host cache of {} bytes: must be 0 or more", options.host_cache_bytes));
  }
  scenario.simulation.core.host_cache_bytes = static_cast<std::uint64_t>(options.host_cache_bytes);
  scenario.simulation.core.prefetch = options.prefetch;

  ScenarioInfo& info = scenario.info;
  info.name = !options.trace_path.empty() ? "user trace"
               : options.assignment == AssignmentRule::kServeGen
                   ? "default: 8 code models on one L40S, Azure 2023 hour, ServeGen-derived models"
                   : "collapsed: 8 code models on one L40S, Azure 2023 hour, Zipf models (overload)";
  info.accelerator = accelerator->name;
  info.memory_budget_bytes = budget;
  info.trace = trace_name;
  info.fleet = options.fleet_path;
  info.rate_scale = rate_scale;
  info.seed = options.seed;
  info.slo_ttft_seconds = options.slo_ttft;
  info.notes.push_back(fmt::format(
      "{}: {:.0f} GB, {:.2f} TB/s, {:.0f} TFLOP/s bf16, link {:.0f} GB/s (vendor data sheet)",
      accelerator->name, static_cast<double>(accelerator->memory_bytes) / 1e9, accelerator->memory_bandwidth / 1e12,
      accelerator->bf16_flops / 1e12, accelerator->host_link_bandwidth / 1e9));
  info.notes.push_back(fmt::format(
      "cost model: load = {:.1f} s + bytes / source bandwidth; prefill at {:.0f} % of peak; decode at "
      "{:.0f} % of memory bandwidth",
      options.cost.load_start_seconds, options.cost.prefill_efficiency * 100,
      options.cost.decode_bandwidth_efficiency * 100));
  if (options.host_cache_bytes > 0 || options.prefetch) {
    info.notes.push_back(fmt::format(
        "host cache of evicted weights: {:.0f} GB ({} memory, {:.1f} GB/s); prefetch {}",
        options.host_cache_bytes / 1e9, options.cost.host_cache_pinned ? "pinned" : "pageable",
        scenario.cost.HostCacheBandwidth() / 1e9, options.prefetch ? "on" : "off"));
  }
  std::uint64_t fleet_bytes = 0;
  for (const FleetModel& m : scenario.fleet) fleet_bytes += m.weight_bytes;
  info.notes.push_back(fmt::format("{} models, {:.1f} GB of weights; {} requests", scenario.fleet.size(),
                                   static_cast<double>(fleet_bytes) / 1e9, scenario.requests.size()));
  return scenario;
}

absl::StatusOr<std::vector<Scenario>> BuildSeedScenarios(ScenarioOptions options, int seeds) {
  std::vector<Scenario> scenarios;
  const std::uint64_t first = options.seed;
  for (int i = 0; i < seeds; ++i) {
    options.seed = first + static_cast<std::uint64_t>(i);
    absl::StatusOr<Scenario> scenario = BuildScenario(options);
    if (!scenario.ok()) return scenario.status();
    scenarios.push_back(*std::move(scenario));
  }
  return scenarios;
}

}  // namespace cace

namespace cace {

absl::StatusOr<std::string> DescribeServeGenAssignment(const ScenarioOptions& options, int seeds) {
  ServeGenFacts facts;
  absl::StatusOr<ServeGenAssignmentParameters> params = ServeGenParameters(options, &facts);
  if (!params.ok()) return params.status();
  absl::StatusOr<std::vector<FleetModel>> fleet = ReadFleetCsv(options.fleet_path);
  if (!fleet.ok()) return fleet.status();
  std::string text = fmt::format("ServeGen-derived model assignment (facts from {}):\n",
                                 ServeGenDir(options));
  for (const std::string& line : DescribeAssignmentParameters(facts, *params)) {
    text += line + "\n";
  }
  text += "rank holders per seed (model and base share):\n";
  for (int i = 0; i < seeds; ++i) {
    const std::uint64_t seed = options.seed + static_cast<std::uint64_t>(i);
    text += fmt::format("  seed {}: completion: {}\n          conversation: {}\n", seed,
                        RankHolders(*fleet, *params, true, seed),
                        RankHolders(*fleet, *params, false, seed));
  }
  return text;
}

}  // namespace cace
