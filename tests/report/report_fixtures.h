// Hand-made results shared by the report tests, and small file helpers.
#ifndef CACE_TESTS_REPORT_REPORT_FIXTURES_H_
#define CACE_TESTS_REPORT_REPORT_FIXTURES_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"

namespace cace::testing {

inline ScenarioInfo TestScenario() {
  ScenarioInfo s;
  s.name = "two policies";
  s.accelerator = "H100 SXM";
  s.memory_budget_bytes = 80e9;
  s.trace = "traces/test.jsonl";
  s.fleet = "fleets/test.json";
  s.rate_scale = 1.5;
  s.seed = 42;
  s.slo_ttft_seconds = {0.3, 1.0, 5.0};
  s.notes = {"load times from the profiler", "hand-made figures"};
  return s;
}

inline LatencyStats Stats(std::uint64_t count, double mean, double p50, double p95, double p99) {
  LatencyStats stats;
  stats.count = count;
  stats.mean = mean;
  stats.p50 = p50;
  stats.p95 = p95;
  stats.p99 = p99;
  return stats;
}

// "lru" and "cace", with figures chosen so every ratio is a round number: cace's mean TTFT is
// 0.618 of lru's (-38.2 %), mean E2E 0.703 (-29.7 %), evictions 0.390 (-61.0 %), bytes 0.5.
inline std::vector<PolicyResult> TwoPolicies() {
  PolicyResult lru;
  lru.policy = "lru";
  lru.requests = 1000;
  lru.ttft = Stats(1000, 1.0, 0.5, 2.0, 4.0);
  lru.e2e = Stats(1000, 10.0, 8.0, 20.0, 40.0);
  lru.ttft_by_kind = {Stats(600, 0.8, 0.4, 1.6, 3.0), Stats(300, 1.2, 0.6, 2.4, 5.0),
                      Stats(100, 1.6, 0.8, 3.2, 6.0)};
  lru.e2e_by_kind = {Stats(600, 2.0, 1.0, 4.0, 8.0), Stats(300, 15.0, 12.0, 30.0, 50.0),
                     Stats(100, 43.0, 40.0, 80.0, 90.0)};
  lru.evictions = 100;
  lru.loads = 110;
  lru.bytes_loaded = 200'000'000'000;
  lru.load_seconds = 250.5;
  lru.memory_utilization = 0.875;
  lru.admission_wait = Stats(1000, 0.75, 0.25, 1.75, 3.5);
  lru.drains = 80;
  lru.drain_wait_seconds = 640.25;
  lru.slo_attainment = {0.5, 0.75, 0.9};
  lru.replay_wall_seconds = 0.25;

  PolicyResult cace = lru;
  cace.policy = "cace";
  cace.ttft = Stats(1000, 0.618, 0.3, 1.5, 3.0);
  cace.e2e = Stats(1000, 7.03, 6.0, 15.0, 30.0);
  cace.evictions = 39;
  cace.loads = 45;
  cace.bytes_loaded = 100'000'000'000;
  cace.load_seconds = 120;
  return {lru, cace};
}

// A path in the temporary directory, unique to this process and `name` (ctest may run test
// cases of this binary in parallel).
inline std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("cace_report_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace cace::testing

#endif  // CACE_TESTS_REPORT_REPORT_FIXTURES_H_
