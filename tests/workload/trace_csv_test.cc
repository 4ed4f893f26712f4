#include <catch2/catch.hpp>

#include "lib/workload/trace.h"
#include "tests/workload/temp_file.h"

namespace cace {
namespace {

using testing::TempFile;

bool Same(const TraceRequest& a, const TraceRequest& b) {
  return a.arrival == b.arrival && a.model == b.model && a.prompt_tokens == b.prompt_tokens &&
         a.output_tokens == b.output_tokens && a.max_tokens == b.max_tokens && a.fim == b.fim &&
         a.kind == b.kind;
}

TEST_CASE("a trace written and read back is the same trace", "[trace_csv]") {
  std::vector<TraceRequest> requests = {
      {0.0, "Qwen2.5-Coder-1.5B", 1469, 13, 64, true, std::nullopt},
      {0.1 + 0.2, "CodeLlama-13B", 1020, 129, 256, false, TaskKind::kChat},
      {1.0 / 3.0, "CodeLlama-13B", 9000, 2000, 4096, false, TaskKind::kReasoning},
      {3599.9999999999995, "Qwen2.5-Coder-1.5B", 1, 0, 0, true, TaskKind::kCompletion},
      {1e7, "m", 4'294'967'295u, 7, 0, false, std::nullopt},
  };
  TempFile file;
  REQUIRE(WriteTraceCsv(file.path(), requests).ok());
  absl::StatusOr<std::vector<TraceRequest>> read = ReadTraceCsv(file.path());
  REQUIRE(read.ok());
  REQUIRE(read->size() == requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    INFO(i);
    CHECK(Same((*read)[i], requests[i]));
  }
}

TEST_CASE("the writer refuses what the reader could not read back, and writes nothing", "[trace_csv]") {
  TempFile file("untouched");
  std::vector<TraceRequest> comma = {{0, "a,b", 1, 1, 0, false, std::nullopt}};
  CHECK(WriteTraceCsv(file.path(), comma).code() == absl::StatusCode::kInvalidArgument);
  std::vector<TraceRequest> backwards = {{2, "a", 1, 1, 0, false, std::nullopt},
                                         {1, "a", 1, 1, 0, false, std::nullopt}};
  CHECK(WriteTraceCsv(file.path(), backwards).code() == absl::StatusCode::kInvalidArgument);
  std::vector<TraceRequest> empty_name = {{0, "", 1, 1, 0, false, std::nullopt}};
  CHECK(WriteTraceCsv(file.path(), empty_name).code() == absl::StatusCode::kInvalidArgument);
  std::ifstream in(file.path());
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(contents == "untouched");
}

TEST_CASE("only the required columns, in any order, with comments", "[trace_csv]") {
  TempFile file(
      "# a server log\n"
      "model,output_tokens,arrival_s,prompt_tokens\n"
      "a,10,0.5,100\n"
      "# a comment between rows\n"
      "b,20,0.5,200\r\n"
      "a,30,7,300\n");
  absl::StatusOr<std::vector<TraceRequest>> read = ReadTraceCsv(file.path());
  REQUIRE(read.ok());
  REQUIRE(read->size() == 3);
  CHECK((*read)[1].model == "b");
  CHECK((*read)[1].arrival == 0.5);
  CHECK((*read)[1].prompt_tokens == 200);
  CHECK((*read)[1].output_tokens == 20);
  CHECK((*read)[1].max_tokens == 0);
  CHECK_FALSE((*read)[1].fim);
  CHECK_FALSE((*read)[1].kind.has_value());
  CHECK((*read)[2].arrival == 7);
}

TEST_CASE("malformed trace lines are errors naming the file, line and column", "[trace_csv]") {
  const std::string header = "arrival_s,model,prompt_tokens,output_tokens,max_tokens,fim,kind\n";
  const std::string good = "0.5,a,100,10,64,1,completion\n";
  struct Case {
    std::string rows;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"0.5,a,100,10,64,1\n", ":3: 6 fields, the header has 7"},
      {"0.7,a,many,10,64,1,\n", ":3: column 'prompt_tokens': 'many' is not a whole number"},
      {"0.7,a,100,-3,64,1,\n", ":3: column 'output_tokens': '-3' is negative"},
      {"-1,a,100,10,64,1,\n", ":3: column 'arrival_s': is negative"},
      {"soon,a,100,10,64,1,\n", ":3: column 'arrival_s': 'soon' is not a number"},
      {"0.4,a,100,10,64,1,\n", ":3: column 'arrival_s': 0.4 is before the previous request's 0.5"},
      {"0.7,a,100,10,64,1,poetry\n", ":3: column 'kind': unknown kind 'poetry'"},
      {"0.7,a,100,10,64,yes,\n", ":3: column 'fim': 'yes' is not 0 or 1"},
      {"0.7,,100,10,64,1,\n", ":3: column 'model': is empty"},
      {"0.7,a,100,10,99999999999,1,\n", ":3: column 'max_tokens': 99999999999 is larger than"},
      {"0.7,a,,10,64,1,\n", ":3: column 'prompt_tokens': is empty"},
      {"nan,a,100,10,64,1,\n", ":3: column 'arrival_s': 'nan' is not a number"},
  };
  for (const Case& c : cases) {
    INFO(c.rows);
    TempFile file(header + good + c.rows);
    absl::StatusOr<std::vector<TraceRequest>> read = ReadTraceCsv(file.path());
    REQUIRE_FALSE(read.ok());
    CHECK(read.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(read.status().message()), Catch::Contains(file.path() + c.expected));
  }
}

TEST_CASE("trace headers are checked", "[trace_csv]") {
  TempFile missing("arrival_s,model,prompt_tokens\n0,a,1\n");
  CHECK_THAT(std::string(ReadTraceCsv(missing.path()).status().message()),
             Catch::Contains(":1: header: required column 'output_tokens' is missing"));
  TempFile typo("arrival_s,model,prompt_tokens,output_tokens,max_token\n0,a,1,1,1\n");
  CHECK_THAT(std::string(ReadTraceCsv(typo.path()).status().message()),
             Catch::Contains(":1: header: unknown column 'max_token'"));
  TempFile twice("arrival_s,model,model,prompt_tokens,output_tokens\n");
  CHECK_THAT(std::string(ReadTraceCsv(twice.path()).status().message()),
             Catch::Contains("column 'model' appears twice"));
  TempFile empty("# nothing\n");
  CHECK_FALSE(ReadTraceCsv(empty.path()).ok());
  CHECK(ReadTraceCsv("/nonexistent/trace.csv").status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cace
