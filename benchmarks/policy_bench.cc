// The policy engine's hot paths: recording an access, and choosing victims with N registered
// models. Targets (issue 2): victims among 1,000 models under 10 us; an access under 200 ns.
// BM_ChooseVictims makes all N models resident candidates (the worst case); BM_ChooseVictimsOn80GB
// keeps N models registered, with their usage history, but only those that fit an 80 GB device
// resident, as on a real accelerator.
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/policy/policies.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

std::unique_ptr<EvictionPolicy> MakePolicy(int which, const std::vector<ModelHandle>& future) {
  switch (which) {
    case 0: return std::make_unique<LruPolicy>();
    case 1: return std::make_unique<LfuPolicy>();
    case 2: return std::make_unique<GdsfPolicy>();
    case 3: return std::make_unique<KeepAlivePolicy>();
    case 4: return std::make_unique<CacePolicy>();
    case 5: return std::make_unique<CacePolicy>(std::make_unique<PaperScorer>());
    default: return std::make_unique<OraclePolicy>(future);
  }
}

// N resident models with a history of 20 accesses each, spread over the last 10 minutes.
struct Fleet {
  std::vector<Candidate> candidates;
  std::vector<ResidentModel> residents;
  std::vector<ModelHandle> upcoming;
  std::vector<AccessEvent> history;
};

Fleet MakeFleet(int n) {
  Fleet fleet;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> time(0.0, 600.0);
  for (int i = 0; i < n; ++i) {
    const auto m = static_cast<ModelHandle>(i);
    const std::uint64_t bytes = (1 + rng() % 16) * kGiB;
    Candidate c{m, bytes, time(rng), 0.5 + static_cast<double>(bytes) / (5.0 * kGiB)};
    fleet.candidates.push_back(c);
    fleet.residents.push_back({c, false, 0});
  }
  for (int i = 0; i < 20 * n; ++i) {
    fleet.history.push_back({static_cast<ModelHandle>(rng() % n), static_cast<TaskKind>(rng() % 3), i * 600.0 / (20.0 * n)});
  }
  for (int i = 0; i < 16; ++i) fleet.upcoming.push_back(static_cast<ModelHandle>(rng() % n));
  return fleet;
}

// Times one policy choosing among `candidates`, after the fleet's history was recorded. With
// `time_passes`, each decision comes one usage-window bucket (10 s) after the last, and the
// fleet's traffic of those 10 s (its history's rate, n/3 requests) is recorded in between, untimed.
void TimeChooseVictims(benchmark::State& state, const Fleet& fleet,
                       const std::vector<Candidate>& candidates, bool time_passes = false) {
  std::vector<ModelHandle> future;
  for (const AccessEvent& e : fleet.history) future.push_back(e.model);
  auto policy = MakePolicy(static_cast<int>(state.range(1)), future);
  for (const AccessEvent& e : fleet.history) policy->OnAccess(e);
  std::vector<ModelHandle> victims;
  Seconds now = 600.0;
  std::mt19937 rng(7);
  const auto n = static_cast<std::uint32_t>(fleet.candidates.size());
  for (auto _ : state) {
    if (time_passes) {
      state.PauseTiming();
      for (std::uint32_t i = 0; i < n / 3; ++i) {
        policy->OnAccess({static_cast<ModelHandle>(rng() % n), static_cast<TaskKind>(rng() % 3),
                          now + 10.0 * i / (n / 3)});
      }
      now += 10.0;
      state.ResumeTiming();
    }
    victims.clear();
    policy->ChooseVictims(EvictionRequest{candidates, 20 * kGiB, now, fleet.upcoming}, victims);
    benchmark::DoNotOptimize(victims.data());
  }
  state.SetLabel(std::string(policy->name()) + ", " + std::to_string(candidates.size()) + " resident");
}

void BM_ChooseVictims(benchmark::State& state) {
  const Fleet fleet = MakeFleet(static_cast<int>(state.range(0)));
  TimeChooseVictims(state, fleet, fleet.candidates);
}

void BM_ChooseVictimsAsTimePasses(benchmark::State& state) {
  const Fleet fleet = MakeFleet(static_cast<int>(state.range(0)));
  TimeChooseVictims(state, fleet, fleet.candidates, true);
}

void BM_ChooseVictimsOn80GB(benchmark::State& state) {
  const Fleet fleet = MakeFleet(static_cast<int>(state.range(0)));
  std::vector<Candidate> resident;
  std::uint64_t used = 0;
  for (const Candidate& c : fleet.candidates) {
    if (used + c.bytes > 80 * kGiB) break;
    resident.push_back(c);
    used += c.bytes;
  }
  TimeChooseVictims(state, fleet, resident);
}

// The same decision through the mechanism (filtering, feasibility, answer checks).
void BM_PlanEviction(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Fleet fleet = MakeFleet(n);
  CacePolicy policy;
  for (const AccessEvent& e : fleet.history) policy.OnAccess(e);
  std::vector<Candidate> scratch;
  std::vector<ModelHandle> victims;
  for (auto _ : state) {
    absl::Status status = PlanEviction(policy, fleet.residents, 20 * kGiB, 600.0, fleet.upcoming, false, scratch, victims);
    benchmark::DoNotOptimize(status.ok());
  }
  state.SetLabel("cace");
}

void BM_RecordAccess(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Fleet fleet = MakeFleet(n);
  std::vector<ModelHandle> future;
  for (int i = 0; i < 1 << 20; ++i) future.push_back(static_cast<ModelHandle>(i % n));
  auto policy = MakePolicy(static_cast<int>(state.range(1)), future);
  std::size_t i = 0;
  double t = 0;
  for (auto _ : state) {
    t += 0.01;
    policy->OnAccess({static_cast<ModelHandle>(i % n), static_cast<TaskKind>(i % 3), t});
    ++i;
  }
  state.SetLabel(std::string(policy->name()));
}

void PolicyArgs(benchmark::internal::Benchmark* b) {
  for (int n : {10, 100, 1000, 10000}) {
    for (int policy = 0; policy <= 6; ++policy) b->Args({n, policy});
  }
}

BENCHMARK(BM_ChooseVictims)->Apply(PolicyArgs);
BENCHMARK(BM_ChooseVictimsAsTimePasses)->Apply(PolicyArgs);
BENCHMARK(BM_ChooseVictimsOn80GB)->Apply(PolicyArgs);
BENCHMARK(BM_PlanEviction)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_RecordAccess)->Apply(PolicyArgs);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
