#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

using testing::Lines;

std::vector<std::string> WriteAndRead(const std::vector<PolicyResult>& results,
                                      const std::string& name) {
  const std::string path = testing::TempPath(name);
  REQUIRE(WriteResultsCsv(path, results).ok());
  const std::string text = testing::ReadFile(path);
  std::remove(path.c_str());
  return Lines(text);
}

// Fields of a line without quoted fields.
std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> fields(1);
  for (char c : line) {
    if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string FieldOf(const std::vector<std::string>& header, const std::vector<std::string>& row,
                    const std::string& column) {
  const auto it = std::find(header.begin(), header.end(), column);
  REQUIRE(it != header.end());
  return row.at(static_cast<std::size_t>(it - header.begin()));
}

TEST_CASE("CSV has a header and one line per policy with the same columns") {
  const std::vector<std::string> lines = WriteAndRead(testing::TwoPolicies(), "two.csv");
  REQUIRE(lines.size() == 3);
  const std::vector<std::string> header = Split(lines[0]);
  CHECK(header[0] == "policy");
  CHECK(header[1] == "requests");
  CHECK(std::find(header.begin(), header.end(), "ttft_chat_p95") != header.end());
  CHECK(std::find(header.begin(), header.end(), "slo_attainment_reasoning") != header.end());
  const std::vector<std::string> lru = Split(lines[1]);
  const std::vector<std::string> cace = Split(lines[2]);
  CHECK(lru.size() == header.size());
  CHECK(cace.size() == header.size());
  CHECK(lru[0] == "lru");
  CHECK(cace[0] == "cace");
  CHECK(FieldOf(header, cace, "ttft_mean") == "0.618");
  CHECK(FieldOf(header, cace, "e2e_p95") == "15");
  CHECK(FieldOf(header, lru, "ttft_completion_mean") == "0.8");
  CHECK(FieldOf(header, lru, "evictions") == "100");
  CHECK(FieldOf(header, lru, "bytes_loaded") == "200000000000");
  CHECK(FieldOf(header, lru, "memory_utilization") == "0.875");
  CHECK(FieldOf(header, lru, "slo_attainment_chat") == "0.75");
  CHECK(FieldOf(header, lru, "admission_wait_mean") == "0.75");
  CHECK(FieldOf(header, lru, "admission_wait_p95") == "1.75");
  CHECK(FieldOf(header, lru, "drains") == "80");
  CHECK(FieldOf(header, lru, "drain_wait_seconds") == "640.25");
}

TEST_CASE("CSV leaves absent figures empty and quotes odd names") {
  std::vector<PolicyResult> results = testing::TwoPolicies();
  results[0].load_seconds = std::numeric_limits<double>::quiet_NaN();
  results[0].ttft_by_kind[1] = LatencyStats{};
  results[1].policy = "cace, \"tuned\"";
  const std::vector<std::string> lines = WriteAndRead(results, "odd.csv");
  REQUIRE(lines.size() == 3);
  const std::vector<std::string> header = Split(lines[0]);
  const std::vector<std::string> lru = Split(lines[1]);
  CHECK(FieldOf(header, lru, "load_seconds").empty());
  CHECK(FieldOf(header, lru, "ttft_chat_count") == "0");
  CHECK(FieldOf(header, lru, "ttft_chat_mean").empty());
  CHECK(FieldOf(header, lru, "slo_attainment_chat").empty());
  CHECK(lines[2].rfind("\"cace, \"\"tuned\"\"\",1000,", 0) == 0);
}

TEST_CASE("CSV of no results is the header alone") {
  const std::vector<std::string> lines = WriteAndRead({}, "empty.csv");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("policy,requests,", 0) == 0);
}

}  // namespace
}  // namespace cace
