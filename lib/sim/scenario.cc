#include "lib/sim/scenario.h"

#include <algorithm>

#include "cace/trace.h"
#include "fmt/format.h"

namespace cace {

std::uint64_t MinimumBudget(const std::vector<FleetModel>& fleet,
                            const std::vector<SimRequest>& requests) {
  std::uint64_t minimum = 0;
  for (const FleetModel& m : fleet) minimum = std::max(minimum, m.weight_bytes);
  for (const SimRequest& r : requests) {
    const FleetModel& m = fleet[r.model];
    const std::uint64_t tokens = static_cast<std::uint64_t>(r.prompt_tokens) + r.output_tokens;
    minimum = std::max(minimum, m.weight_bytes + tokens * m.kv_bytes_per_token);
  }
  return minimum;
}

absl::StatusOr<Scenario> BuildScenario(const ScenarioOptions& options) {
  absl::StatusOr<Accelerator> accelerator = AcceleratorByName(options.accelerator);
  if (!accelerator.ok()) return accelerator.status();
  absl::StatusOr<std::vector<FleetModel>> fleet = ReadFleetCsv(options.fleet_path);
  if (!fleet.ok()) return fleet.status();

  Scenario scenario{.cost = CostModel(*accelerator, options.cost)};
  scenario.fleet = *std::move(fleet);
  std::vector<TraceRequest> trace;
  std::string trace_name;
  if (options.trace_path.empty()) {
    auto code = ReadAzureTrace(options.data_dir + "/traces/azure_llm_2023_code.csv");
    if (!code.ok()) return code.status();
    auto conv = ReadAzureTrace(options.data_dir + "/traces/azure_llm_2023_conv.csv");
    if (!conv.ok()) return conv.status();
    AssignmentOptions assignment{
        .seed = options.seed, .sessions = options.sessions, .rate_scale = options.rate_scale};
    auto assigned = AssignModels(*code, *conv, scenario.fleet, assignment);
    if (!assigned.ok()) return assigned.status();
    trace = *std::move(assigned);
    trace_name = "Azure LLM inference 2023: code + conversation hour, merged";
  } else {
    auto read = ReadTraceCsv(options.trace_path);
    if (!read.ok()) return read.status();
    trace = *std::move(read);
    if (options.rate_scale != 1.0) {
      for (TraceRequest& r : trace) r.arrival /= options.rate_scale;
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

  ScenarioInfo& info = scenario.info;
  info.name = options.trace_path.empty() ? "default: 8 code models on one L40S, Azure 2023 hour"
                                         : "user trace";
  info.accelerator = accelerator->name;
  info.memory_budget_bytes = budget;
  info.trace = trace_name;
  info.fleet = options.fleet_path;
  info.rate_scale = options.rate_scale;
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
