// The tier and prefetch figures in every output: the table's block (only when a replay had a host
// cache or prefetch), the JSON's "tiers" object and the CSV's columns.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"
#include "lib/json/json.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

std::vector<PolicyResult> WithTiers() {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  PolicyResult& r = results.front();
  r.loads = 10;
  r.host_cache_loads = 7;
  r.host_cache_bytes_loaded = 21'000'000'000;
  r.host_cache_drops = 2;
  r.prefetches = 5;
  r.prefetches_used = 3;
  r.prefetches_cancelled = 1;
  return results;
}

TEST_CASE("the table shows where loads came from only when a replay had tiers or prefetch") {
  const std::string plain = FormatResultsTable(testing::TestScenario(), testing::TwoPolicies(), "lru");
  CHECK(plain.find("Tiers and prefetch") == std::string::npos);
  const std::vector<PolicyResult> results = WithTiers();
  const std::string table = FormatResultsTable(testing::TestScenario(), results, "lru");
  bool found = false;
  bool in_block = false;
  for (const std::string& line : testing::Lines(table)) {
    if (line.rfind("Tiers and prefetch", 0) == 0) in_block = true;
    if (in_block && line.rfind(results.front().policy + " ", 0) == 0) {
      // host cache 7, disk 3, 21.0 GB, 2 drops, 5 started, 3 used, 1 cancelled
      CHECK(line.find("7") != std::string::npos);
      CHECK(line.find(" 3 ") != std::string::npos);
      CHECK(line.find("21.0") != std::string::npos);
      found = true;
      break;
    }
  }
  CHECK(found);
}

TEST_CASE("JSON and CSV carry the tier and prefetch figures") {
  const std::vector<PolicyResult> results = WithTiers();
  const std::string json_path = testing::TempPath("tiers.json");
  REQUIRE(WriteResultsJson(json_path, testing::TestScenario(), results, "lru").ok());
  absl::StatusOr<JsonValue> json = ParseJson(testing::ReadFile(json_path), json_path);
  std::remove(json_path.c_str());
  REQUIRE(json.ok());
  const JsonValue* first = &json->Find("results")->items().front();
  const JsonValue* tiers = first->Find("tiers");
  REQUIRE(tiers != nullptr);
  CHECK(tiers->Find("host_cache_loads")->AsUint64() == 7u);
  CHECK(tiers->Find("disk_loads")->AsUint64() == 3u);
  CHECK(tiers->Find("host_cache_bytes_loaded")->AsUint64() == 21'000'000'000u);
  CHECK(tiers->Find("host_cache_drops")->AsUint64() == 2u);
  CHECK(tiers->Find("prefetches")->AsUint64() == 5u);
  CHECK(tiers->Find("prefetches_used")->AsUint64() == 3u);
  CHECK(tiers->Find("prefetches_cancelled")->AsUint64() == 1u);

  const std::string csv_path = testing::TempPath("tiers.csv");
  REQUIRE(WriteResultsCsv(csv_path, results).ok());
  const std::vector<std::string> lines = testing::Lines(testing::ReadFile(csv_path));
  std::remove(csv_path.c_str());
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0].find("host_cache_loads,host_cache_bytes_loaded,host_cache_drops,prefetches,prefetches_used,prefetches_cancelled") != std::string::npos);
  CHECK(lines[1].find(",7,21000000000,2,5,3,1") != std::string::npos);
}

}  // namespace
}  // namespace cace
