#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

using testing::Lines;
using testing::TwoPolicies;

// The line of `policy` in the block whose title starts with `block_title`.
std::string RowIn(const std::string& table, const std::string& block_title,
                  const std::string& policy) {
  bool in_block = false;
  for (const std::string& line : Lines(table)) {
    if (line.rfind(block_title, 0) == 0) {
      in_block = true;
    } else if (in_block && line.empty()) {
      break;
    } else if (in_block && line.rfind(policy + " ", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("table states the scenario") {
  const std::vector<PolicyResult> results = TwoPolicies();
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  CHECK(Contains(table, "Replay: two policies"));
  CHECK(Contains(table, "H100 SXM"));
  CHECK(Contains(table, "80.00 GB (74.51 GiB)"));
  CHECK(Contains(table, "trace: traces/test.jsonl"));
  CHECK(Contains(table, "fleet: fleets/test.json"));
  CHECK(Contains(table, "rate scale: 1.5   seed: 42"));
  CHECK(Contains(table, "TTFT SLO: completion 0.3 s, chat 1 s, reasoning 5 s"));
  CHECK(Contains(table, "note: load times from the profiler"));
  CHECK(Contains(table, "note: hand-made figures"));
}

TEST_CASE("table rows hold each policy's figures in ms, s, GB and %") {
  const std::vector<PolicyResult> results = TwoPolicies();
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  const std::string latency = RowIn(table, "Latency", "cace");
  CHECK(Contains(latency, "618.0"));   // TTFT mean in ms
  CHECK(Contains(latency, "1500.0"));  // TTFT p95 in ms
  CHECK(Contains(latency, "7.03"));    // E2E mean in s
  const std::string resources = RowIn(table, "Loading", "lru");
  CHECK(Contains(resources, " 100 "));  // evictions
  CHECK(Contains(resources, "200.0"));  // GB loaded
  CHECK(Contains(resources, "250.5"));  // load s
  CHECK(Contains(resources, "87.5"));   // memory utilisation %
  CHECK(Contains(resources, "50.0"));   // completion SLO %
  CHECK(Contains(resources, "75.0"));
  CHECK(Contains(resources, "90.0"));
  const std::string waiting = RowIn(table, "Where TTFT goes", "lru");
  CHECK(Contains(waiting, "0.75"));    // admission wait mean, s
  CHECK(Contains(waiting, "1.75"));    // its p95
  CHECK(Contains(waiting, "75.0"));    // 0.75 s of the 1.0 s mean TTFT
  CHECK(Contains(waiting, " 80 "));    // drains
  CHECK(Contains(waiting, "640.2"));   // drain wait s (rounded half to even: 640.25)
  const std::string per_kind = RowIn(table, "Means per task kind", "lru");
  CHECK(Contains(per_kind, "800.0"));  // completion TTFT mean, ms
  CHECK(Contains(per_kind, "43.00"));  // reasoning E2E mean, s
}

TEST_CASE("ratio block compares every policy with the baseline") {
  const std::vector<PolicyResult> results = TwoPolicies();
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  REQUIRE(Contains(table, "Ratio to lru"));
  const std::string cace = RowIn(table, "Ratio to lru", "cace");
  CHECK(Contains(cace, "0.618   -38.2 %"));  // mean TTFT
  CHECK(Contains(cace, "0.750   -25.0 %"));  // p95 TTFT
  CHECK(Contains(cace, "0.703   -29.7 %"));  // mean E2E
  CHECK(Contains(cace, "0.390   -61.0 %"));  // evictions
  CHECK(Contains(cace, "0.500   -50.0 %"));  // GB loaded
  const std::string lru = RowIn(table, "Ratio to lru", "lru");
  CHECK(Contains(lru, "1.000    +0.0 %"));
  CHECK_FALSE(Contains(table, "Gap to oracle"));
}

TEST_CASE("no ratio block when the baseline did not run") {
  const std::vector<PolicyResult> results = TwoPolicies();
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "gdsf");
  CHECK_FALSE(Contains(table, "Ratio to"));
  CHECK(Contains(table, "Means per task kind"));
}

TEST_CASE("gap to the oracle when an oracle ran") {
  std::vector<PolicyResult> results = TwoPolicies();
  PolicyResult oracle = results[1];
  oracle.policy = "oracle";
  oracle.ttft.mean = 0.309;  // half of cace's
  oracle.evictions = 13;     // a third of cace's
  results.push_back(oracle);
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  const std::string cace = RowIn(table, "Gap to oracle", "cace");
  CHECK(Contains(cace, "2.000  +100.0 %"));  // mean TTFT
  CHECK(Contains(cace, "3.000  +200.0 %"));  // evictions
}

TEST_CASE("swap penalty left against the floor, and rejections with their reason") {
  std::vector<PolicyResult> results = TwoPolicies();
  PolicyResult floor = results[0];
  floor.policy = "floor";
  floor.ttft.mean = 0.2;  // lru 1.0, cace 0.618: (0.618 - 0.2) / (1.0 - 0.2) = 0.5225
  floor.evictions = 0;
  results.push_back(floor);
  results[1].rejected = 3;
  results[1].rejection_reason = "request 7: larger than the memory budget";
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  CHECK(Contains(table, "the oracle bounds misses, not latency"));
  CHECK(Contains(RowIn(table, "Swap penalty left", "cace"), "0.522"));
  CHECK(Contains(RowIn(table, "Swap penalty left", "lru"), "1.000"));
  CHECK(Contains(RowIn(table, "Swap penalty left", "floor"), "0.000"));
  CHECK(Contains(table, "rejected by cace: 3 requests"));
  CHECK(Contains(table, "request 7: larger than the memory budget"));
  CHECK(RowIn(table, "Where TTFT goes", "cace").substr(RowIn(table, "Where TTFT goes", "cace").size() - 3) == "  3");
  for (const std::string& line : Lines(table)) CHECK(line.size() <= 120);
  // Without a floor, no such block.
  results.pop_back();
  CHECK_FALSE(Contains(FormatResultsTable(testing::TestScenario(), results, "lru"), "Swap penalty"));
}

TEST_CASE("absent figures show as '-' and the table fits 120 columns") {
  std::vector<PolicyResult> results = TwoPolicies();
  results[1].ttft_by_kind[2] = LatencyStats{};  // no reasoning requests
  results[1].e2e_by_kind[2] = LatencyStats{};
  results[0].evictions = 0;  // no ratio to 0 evictions
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  const std::string per_kind = RowIn(table, "Means per task kind", "cace");
  CHECK(per_kind.substr(per_kind.size() - 3) == "  -");
  const std::string slo = RowIn(table, "Loading", "cace");
  CHECK(Contains(slo, "  -  "));  // reasoning SLO attainment is undefined
  const std::string ratio = RowIn(table, "Ratio to lru", "cace");
  CHECK(Contains(ratio, "    -         -  "));  // evictions ratio
  for (const std::string& line : Lines(table)) CHECK(line.size() <= 120);
}

TEST_CASE("control characters in names do not break rows") {
  std::vector<PolicyResult> results = TwoPolicies();
  results[1].policy = "ca\nce";
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  CHECK(Contains(table, "ca?ce"));
  CHECK_FALSE(Contains(table, "ca\nce"));
}

TEST_CASE("a table without results says so") {
  const std::string table = FormatResultsTable(testing::TestScenario(), {}, "lru");
  CHECK(Contains(table, "no results"));
}

}  // namespace
}  // namespace cace
