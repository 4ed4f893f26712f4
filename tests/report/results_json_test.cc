#include <catch2/catch.hpp>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"
#include "lib/json/json.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

using testing::ReadFile;
using testing::TempPath;

JsonValue WriteAndParse(const std::vector<PolicyResult>& results, const std::string& baseline,
                        const std::string& name) {
  const std::string path = TempPath(name);
  REQUIRE(WriteResultsJson(path, testing::TestScenario(), results, baseline).ok());
  const std::string text = ReadFile(path);
  std::remove(path.c_str());
  absl::StatusOr<JsonValue> json = ParseJson(text, path);
  INFO(text);
  REQUIRE(json.ok());
  return *std::move(json);
}

// The member at a path of keys, failing the test when one is missing.
const JsonValue& At(const JsonValue& value, std::initializer_list<std::string_view> keys) {
  const JsonValue* v = &value;
  for (std::string_view key : keys) {
    INFO("key " << key);
    v = v->Find(key);
    REQUIRE(v != nullptr);
  }
  return *v;
}

double Number(const JsonValue& value, std::initializer_list<std::string_view> keys) {
  std::optional<double> number = At(value, keys).AsDouble();
  REQUIRE(number.has_value());
  return *number;
}

TEST_CASE("JSON parses back and holds the scenario") {
  const JsonValue json = WriteAndParse(testing::TwoPolicies(), "lru", "scenario.json");
  CHECK(At(json, {"schema"}).text() == "cace.replay.v1");
  const JsonValue& scenario = At(json, {"scenario"});
  CHECK(At(scenario, {"name"}).text() == "two policies");
  CHECK(At(scenario, {"accelerator"}).text() == "H100 SXM");
  CHECK(Number(scenario, {"memory_budget_bytes"}) == 80e9);
  CHECK(At(scenario, {"trace"}).text() == "traces/test.jsonl");
  CHECK(At(scenario, {"fleet"}).text() == "fleets/test.json");
  CHECK(Number(scenario, {"rate_scale"}) == 1.5);
  CHECK(At(scenario, {"seed"}).AsUint64() == 42u);
  CHECK(Number(scenario, {"slo_ttft_seconds", "completion"}) == 0.3);
  CHECK(Number(scenario, {"slo_ttft_seconds", "chat"}) == 1.0);
  CHECK(Number(scenario, {"slo_ttft_seconds", "reasoning"}) == 5.0);
  REQUIRE(At(scenario, {"notes"}).items().size() == 2);
  CHECK(At(scenario, {"notes"}).items()[1].text() == "hand-made figures");
  CHECK(At(scenario, {"baseline"}).text() == "lru");
}

TEST_CASE("JSON holds every figure of every policy in base units") {
  const JsonValue json = WriteAndParse(testing::TwoPolicies(), "lru", "figures.json");
  const std::vector<JsonValue>& results = At(json, {"results"}).items();
  REQUIRE(results.size() == 2);
  const JsonValue& lru = results[0];
  CHECK(At(lru, {"policy"}).text() == "lru");
  CHECK(At(lru, {"requests"}).AsUint64() == 1000u);
  CHECK(At(lru, {"ttft", "count"}).AsUint64() == 1000u);
  CHECK(Number(lru, {"ttft", "mean"}) == 1.0);
  CHECK(Number(lru, {"ttft", "p50"}) == 0.5);
  CHECK(Number(lru, {"ttft", "p95"}) == 2.0);
  CHECK(Number(lru, {"ttft", "p99"}) == 4.0);
  CHECK(Number(lru, {"e2e", "mean"}) == 10.0);
  CHECK(Number(lru, {"ttft_by_kind", "chat", "mean"}) == 1.2);
  CHECK(At(lru, {"e2e_by_kind", "reasoning", "count"}).AsUint64() == 100u);
  CHECK(Number(lru, {"e2e_by_kind", "reasoning", "p99"}) == 90.0);
  CHECK(At(lru, {"evictions"}).AsUint64() == 100u);
  CHECK(At(lru, {"loads"}).AsUint64() == 110u);
  CHECK(At(lru, {"bytes_loaded"}).AsUint64() == 200'000'000'000u);
  CHECK(Number(lru, {"load_seconds"}) == 250.5);
  CHECK(Number(lru, {"memory_utilization"}) == 0.875);
  CHECK(Number(lru, {"admission_wait", "mean"}) == 0.75);
  CHECK(At(lru, {"admission_wait", "count"}).AsUint64() == 1000u);
  CHECK(At(lru, {"drains"}).AsUint64() == 80u);
  CHECK(Number(lru, {"drain_wait_seconds"}) == 640.25);
  CHECK(Number(lru, {"slo_attainment", "completion"}) == 0.5);
  CHECK(Number(lru, {"slo_attainment", "reasoning"}) == 0.9);
  CHECK(Number(lru, {"replay_wall_seconds"}) == 0.25);
  CHECK(At(lru, {"ratio_to_oracle"}).is_null());

  const JsonValue& cace = results[1];
  CHECK(Number(cace, {"ratio_to_baseline", "ttft_mean"}) == Approx(0.618));
  CHECK(Number(cace, {"ratio_to_baseline", "ttft_p95"}) == Approx(0.75));
  CHECK(Number(cace, {"ratio_to_baseline", "e2e_mean"}) == Approx(0.703));
  CHECK(Number(cace, {"ratio_to_baseline", "e2e_p95"}) == Approx(0.75));
  CHECK(Number(cace, {"ratio_to_baseline", "evictions"}) == Approx(0.39));
  CHECK(Number(cace, {"ratio_to_baseline", "bytes_loaded"}) == Approx(0.5));
  CHECK(Number(lru, {"ratio_to_baseline", "ttft_mean"}) == 1.0);
}

TEST_CASE("JSON holds rejections, the replayed time and the penalty left against the floor") {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  CHECK(WriteAndParse(results, "lru", "no_floor.json").Find("results")->items()[1].Find("penalty_left")->is_null());
  results[1].rejected = 2;
  results[1].rejection_reason = "request 5: too large";
  results[1].simulated_seconds = 3600.5;
  PolicyResult floor = results[0];
  floor.policy = "floor";
  floor.ttft.mean = 0.2;
  floor.evictions = 0;
  results.push_back(floor);
  const JsonValue json = WriteAndParse(results, "lru", "floor.json");
  const JsonValue& cace = At(json, {"results"}).items()[1];
  CHECK(At(cace, {"rejected"}).AsUint64() == 2u);
  CHECK(At(cace, {"rejection_reason"}).text() == "request 5: too large");
  CHECK(Number(cace, {"simulated_seconds"}) == 3600.5);
  // (0.618 - 0.2) / (1.0 - 0.2); evictions (39 - 0) / (100 - 0).
  CHECK(Number(cace, {"penalty_left", "ttft_mean"}) == Approx(0.5225));
  CHECK(Number(cace, {"penalty_left", "evictions"}) == Approx(0.39));
  CHECK(At(At(json, {"results"}).items()[0], {"rejection_reason"}).is_null());
}

TEST_CASE("JSON without the baseline or with an oracle") {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  JsonValue json = WriteAndParse(results, "keep-alive", "no_baseline.json");
  CHECK(At(json, {"scenario", "baseline"}).is_null());
  CHECK(At(json, {"results"}).items()[1].Find("ratio_to_baseline")->is_null());

  results[0].policy = "oracle";
  json = WriteAndParse(results, "oracle", "oracle.json");
  const JsonValue& cace = At(json, {"results"}).items()[1];
  CHECK(Number(cace, {"ratio_to_oracle", "ttft_mean"}) == Approx(0.618));
  CHECK(Number(cace, {"ratio_to_oracle", "evictions"}) == Approx(0.39));
}

TEST_CASE("JSON escapes odd policy names") {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  const std::string odd = "we\"ird\\name\n\ttab\x01\x1f caf\xc3\xa9 </script>";
  results[1].policy = odd;
  const JsonValue json = WriteAndParse(results, odd, "odd.json");
  CHECK(At(json, {"results"}).items()[1].Find("policy")->text() == odd);
  CHECK(At(json, {"scenario", "baseline"}).text() == odd);
}

TEST_CASE("NaN and infinity become null, as do figures no request produced") {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  results[1].load_seconds = std::numeric_limits<double>::quiet_NaN();
  results[1].memory_utilization = std::numeric_limits<double>::infinity();
  results[1].ttft_by_kind[2] = LatencyStats{};
  results[0].evictions = 0;
  const JsonValue json = WriteAndParse(results, "lru", "nan.json");
  const JsonValue& cace = At(json, {"results"}).items()[1];
  CHECK(At(cace, {"load_seconds"}).is_null());
  CHECK(At(cace, {"memory_utilization"}).is_null());
  CHECK(At(cace, {"ttft_by_kind", "reasoning", "count"}).AsUint64() == 0u);
  CHECK(At(cace, {"ttft_by_kind", "reasoning", "mean"}).is_null());
  CHECK(At(cace, {"ttft_by_kind", "reasoning", "p99"}).is_null());
  CHECK(At(cace, {"slo_attainment", "reasoning"}).is_null());
  CHECK(At(cace, {"ratio_to_baseline", "evictions"}).is_null());  // lru had none to compare with
  CHECK(Number(cace, {"ratio_to_baseline", "ttft_mean"}) == Approx(0.618));
}

TEST_CASE("JSON of no results is still a document") {
  const JsonValue json = WriteAndParse({}, "lru", "empty.json");
  CHECK(At(json, {"results"}).is_array());
  CHECK(At(json, {"results"}).items().empty());
}

}  // namespace
}  // namespace cace
