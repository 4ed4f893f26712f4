// Building a replay's workload: reading the public traces and assigning them to a fleet.
// Target (issue 3): the Azure code + conversation hour (28,185 requests) read and assigned in
// well under a second.
#include <benchmark/benchmark.h>

#include "lib/workload/trace.h"

namespace cace {
namespace {

const std::string kTraces = CACE_DATA_DIR "/traces/";

std::vector<FleetModel> Fleet() {
  return *ReadFleetCsv(CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv");
}

void BM_ReadAzureHour(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ReadAzureTrace(kTraces + "azure_llm_2023_code.csv"));
    benchmark::DoNotOptimize(ReadAzureTrace(kTraces + "azure_llm_2023_conv.csv"));
  }
  state.SetItemsProcessed(state.iterations() * 28185);
}
BENCHMARK(BM_ReadAzureHour)->Unit(benchmark::kMillisecond);

void BM_AssignAzureHour(benchmark::State& state) {
  const std::vector<RawRequest> code = *ReadAzureTrace(kTraces + "azure_llm_2023_code.csv");
  const std::vector<RawRequest> conv = *ReadAzureTrace(kTraces + "azure_llm_2023_conv.csv");
  const std::vector<FleetModel> fleet = Fleet();
  for (auto _ : state) benchmark::DoNotOptimize(AssignModels(code, conv, fleet, {}));
  state.SetItemsProcessed(state.iterations() * 28185);
}
BENCHMARK(BM_AssignAzureHour)->Unit(benchmark::kMillisecond);

// The whole job of the replay's workload side: read both files, then assign.
void BM_ReadAndAssignAzureHour(benchmark::State& state) {
  const std::vector<FleetModel> fleet = Fleet();
  for (auto _ : state) {
    const std::vector<RawRequest> code = *ReadAzureTrace(kTraces + "azure_llm_2023_code.csv");
    const std::vector<RawRequest> conv = *ReadAzureTrace(kTraces + "azure_llm_2023_conv.csv");
    benchmark::DoNotOptimize(AssignModels(code, conv, fleet, {}));
  }
  state.SetItemsProcessed(state.iterations() * 28185);
}
BENCHMARK(BM_ReadAndAssignAzureHour)->Unit(benchmark::kMillisecond);

void BM_ReadMooncake(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ReadMooncakeTrace(kTraces + "mooncake_conversation.jsonl"));
  }
  state.SetItemsProcessed(state.iterations() * 12031);
}
BENCHMARK(BM_ReadMooncake)->Unit(benchmark::kMillisecond);

void BM_GenerateSyntheticHour(benchmark::State& state) {
  const std::vector<FleetModel> fleet = Fleet();
  for (auto _ : state) benchmark::DoNotOptimize(GenerateSynthetic(fleet, {}));
}
BENCHMARK(BM_GenerateSyntheticHour)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
