#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "lib/workload/trace.h"
#include "tests/workload/temp_file.h"

namespace cace {
namespace {

using testing::TempFile;

const std::string kTraces = CACE_DATA_DIR "/traces/";

std::uint32_t MedianOutput(const std::vector<RawRequest>& requests) {
  std::vector<std::uint32_t> outputs;
  for (const RawRequest& request : requests) outputs.push_back(request.output_tokens);
  std::nth_element(outputs.begin(), outputs.begin() + outputs.size() / 2, outputs.end());
  return outputs[outputs.size() / 2];
}

double Rate(const std::vector<RawRequest>& requests) {
  return static_cast<double>(requests.size()) / (requests.back().arrival - requests.front().arrival);
}

TEST_CASE("Azure code trace: rows, first arrival, and the README's facts", "[public]") {
  absl::StatusOr<std::vector<RawRequest>> code = ReadAzureTrace(kTraces + "azure_llm_2023_code.csv");
  REQUIRE(code.ok());
  REQUIRE(code->size() == 8819);
  // 2023-11-16 18:17:03.9799600 is 65,823.97996 s after midnight.
  CHECK(code->front().arrival == Approx(18 * 3600 + 17 * 60 + 3.97996).margin(1e-9));
  CHECK(code->front().prompt_tokens == 4808);
  CHECK(code->front().output_tokens == 10);
  CHECK(code->back().arrival == Approx(19 * 3600 + 14 * 60 + 19.928016).margin(1e-9));
  CHECK(MedianOutput(*code) == 13);
  CHECK(Rate(*code) == Approx(2.6).epsilon(0.05));
  // Sub-second precision survives: the second and third requests are 46 ms apart.
  CHECK((*code)[2].arrival - (*code)[1].arrival == Approx(0.046189).margin(1e-6));
}

TEST_CASE("Azure conversation trace lines up with the code trace of the same hour", "[public]") {
  absl::StatusOr<std::vector<RawRequest>> conv = ReadAzureTrace(kTraces + "azure_llm_2023_conv.csv");
  absl::StatusOr<std::vector<RawRequest>> code = ReadAzureTrace(kTraces + "azure_llm_2023_code.csv");
  REQUIRE(conv.ok());
  REQUIRE(code.ok());
  REQUIRE(conv->size() == 19366);
  CHECK(conv->front().arrival == Approx(18 * 3600 + 15 * 60 + 46.68059).margin(1e-9));
  CHECK(MedianOutput(*conv) == 129);
  CHECK(Rate(*conv) == Approx(5.5).epsilon(0.05));
  // Both start within minutes of each other on the same clock.
  CHECK(code->front().arrival - conv->front().arrival == Approx(77.29937).margin(1e-6));
}

TEST_CASE("Mooncake trace: rows and arrivals in seconds from its start", "[public]") {
  absl::StatusOr<std::vector<RawRequest>> moon =
      ReadMooncakeTrace(kTraces + "mooncake_conversation.jsonl");
  REQUIRE(moon.ok());
  REQUIRE(moon->size() == 12031);
  CHECK(moon->front().arrival == 0);
  CHECK(moon->front().prompt_tokens == 6758);
  CHECK(moon->front().output_tokens == 500);
  CHECK(moon->back().arrival == Approx(3536.999));
  CHECK(std::is_sorted(moon->begin(), moon->end(),
                       [](const RawRequest& a, const RawRequest& b) { return a.arrival < b.arrival; }));
}

TEST_CASE("Azure timestamps across midnight keep counting", "[public]") {
  TempFile file(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2023-11-16 23:59:59.5,10,1\n"
      "2023-11-17 00:00:00.25,10,1\n"
      "2024-03-01 00:00:00,10,1\n");
  absl::StatusOr<std::vector<RawRequest>> read = ReadAzureTrace(file.path());
  REQUIRE(read.ok());
  CHECK((*read)[0].arrival == 86399.5);
  CHECK((*read)[1].arrival == 86400.25);
  // 2023-11-16 to 2024-03-01: 14 + 31 + 31 + 29 + 1 = 106 days (2024 is a leap year).
  CHECK((*read)[2].arrival == 106 * 86400.0);
}

TEST_CASE("malformed public traces are errors with the line", "[public]") {
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  struct Case {
    std::string row;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"2023-11-16 18:17:03.98,10", ":2: 2 fields, the header has 3"},
           {"2023-11-16 25:17:03.98,10,1", ":2: column 'TIMESTAMP'"},
           {"2023-11-16T18:17,10,1", ":2: column 'TIMESTAMP'"},
           {"2023-11-16 18:17:03.,10,1", ":2: column 'TIMESTAMP'"},
           {"2023-11-16 18:17:03.98,-10,1", ":2: column 'ContextTokens': '-10' is negative"},
           {"2023-11-16 18:17:03.98,10,x", ":2: column 'GeneratedTokens'"},
       }) {
    INFO(c.row);
    TempFile file(header + c.row + "\n");
    absl::StatusOr<std::vector<RawRequest>> read = ReadAzureTrace(file.path());
    REQUIRE_FALSE(read.ok());
    CHECK_THAT(std::string(read.status().message()), Catch::Contains(file.path() + c.expected));
  }
  for (const Case& c : std::vector<Case>{
           {"{\"timestamp\": 5, \"input_length\": 3}", ":2: field 'output_length' is missing"},
           {"{\"timestamp\": \"5\", \"input_length\": 3, \"output_length\": 1}",
            ":2: field 'timestamp' is a string"},
           {"{\"timestamp\": 5, \"input_length\": -3, \"output_length\": 1}",
            ":2: field 'input_length'"},
           {"{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 1.5}",
            ":2: field 'output_length'"},
           {"[1, 2]", ":2: not a JSON object"},
           {"{\"timestamp\": 5,", ":2: JSON error"},
       }) {
    INFO(c.row);
    TempFile file("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n" + c.row + "\n");
    absl::StatusOr<std::vector<RawRequest>> read = ReadMooncakeTrace(file.path());
    REQUIRE_FALSE(read.ok());
    CHECK_THAT(std::string(read.status().message()), Catch::Contains(file.path() + c.expected));
  }
}

}  // namespace
}  // namespace cace
