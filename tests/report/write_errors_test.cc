#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/report/replay_report.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

bool Mentions(const absl::Status& status, const std::string& part) {
  return std::string(status.message()).find(part) != std::string::npos;
}

TEST_CASE("writing into a missing directory is a clear error") {
  const std::vector<PolicyResult> results = testing::TwoPolicies();
  const ScenarioInfo scenario = testing::TestScenario();
  const std::string dir = testing::TempPath("missing_dir");
  absl::Status status = WriteResultsJson(dir + "/out.json", scenario, results, "lru");
  CHECK_FALSE(status.ok());
  CHECK(Mentions(status, "results JSON"));
  CHECK(Mentions(status, dir + "/out.json"));
  CHECK(Mentions(status, "No such file or directory"));
  status = WriteResultsCsv(dir + "/out.csv", results);
  CHECK_FALSE(status.ok());
  CHECK(Mentions(status, "results CSV"));
  status = WriteResultsSvg(dir + "/out.svg", scenario, results);
  CHECK_FALSE(status.ok());
  CHECK(Mentions(status, "results SVG"));
  CHECK(WriteResultsJson("", scenario, results, "lru").code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("writing over a directory fails and leaves it and no temporary file behind") {
  const std::string dir = testing::TempPath("a_directory");
  std::filesystem::create_directory(dir);
  const absl::Status status = WriteResultsCsv(dir, testing::TwoPolicies());
  CHECK_FALSE(status.ok());
  CHECK(Mentions(status, dir));
  CHECK(std::filesystem::is_directory(dir));
  CHECK_FALSE(std::filesystem::exists(dir + ".tmp"));
  std::filesystem::remove(dir);
}

TEST_CASE("a second write replaces the whole file") {
  const std::string path = testing::TempPath("replace.csv");
  REQUIRE(WriteResultsCsv(path, testing::TwoPolicies()).ok());
  REQUIRE(WriteResultsCsv(path, {}).ok());
  CHECK(testing::Lines(testing::ReadFile(path)).size() == 1);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace cace
