#include <catch2/catch.hpp>
#include <cmath>

#include "lib/workload/trace.h"

namespace cace {
namespace {

std::vector<FleetModel> ExampleFleet() {
  absl::StatusOr<std::vector<FleetModel>> fleet =
      ReadFleetCsv(CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv");
  REQUIRE(fleet.ok());
  return *fleet;
}

std::size_t CountFim(const std::vector<TraceRequest>& trace, bool fim) {
  std::size_t count = 0;
  for (const TraceRequest& request : trace) count += request.fim == fim ? 1 : 0;
  return count;
}

double InterArrivalCv(const std::vector<TraceRequest>& trace, bool fim) {
  std::vector<double> gaps;
  double previous = -1;
  for (const TraceRequest& request : trace) {
    if (request.fim != fim) continue;
    if (previous >= 0) gaps.push_back(request.arrival - previous);
    previous = request.arrival;
  }
  double mean = 0;
  for (double gap : gaps) mean += gap;
  mean /= static_cast<double>(gaps.size());
  double variance = 0;
  for (double gap : gaps) variance += (gap - mean) * (gap - mean);
  variance /= static_cast<double>(gaps.size());
  return std::sqrt(variance) / mean;
}

TEST_CASE("synthetic traffic is a function of the seed", "[synthetic]") {
  const std::vector<FleetModel> fleet = ExampleFleet();
  SyntheticOptions options;
  options.duration = 600;
  absl::StatusOr<std::vector<TraceRequest>> a = GenerateSynthetic(fleet, options);
  absl::StatusOr<std::vector<TraceRequest>> b = GenerateSynthetic(fleet, options);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == b->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    REQUIRE((*a)[i].arrival == (*b)[i].arrival);
    REQUIRE((*a)[i].model == (*b)[i].model);
    REQUIRE((*a)[i].prompt_tokens == (*b)[i].prompt_tokens);
    REQUIRE((*a)[i].output_tokens == (*b)[i].output_tokens);
  }
  options.assignment.seed = 2;
  absl::StatusOr<std::vector<TraceRequest>> c = GenerateSynthetic(fleet, options);
  REQUIRE(c.ok());
  CHECK((c->size() != a->size() || (*c)[10].arrival != (*a)[10].arrival));
}

TEST_CASE("synthetic traffic has roughly the asked rates, lengths and burstiness", "[synthetic]") {
  const std::vector<FleetModel> fleet = ExampleFleet();
  SyntheticOptions options;
  options.duration = 3600;
  options.completion_cv = 1.0;  // Poisson: the count is tight around rate x duration
  absl::StatusOr<std::vector<TraceRequest>> trace = GenerateSynthetic(fleet, options);
  REQUIRE(trace.ok());
  CHECK(trace->front().arrival == 0);
  CHECK(trace->back().arrival < 3600);
  CHECK(static_cast<double>(CountFim(*trace, true)) == Approx(2.6 * 3600).epsilon(0.05));
  CHECK(static_cast<double>(CountFim(*trace, false)) == Approx(5.5 * 3600).epsilon(0.05));
  CHECK(InterArrivalCv(*trace, true) == Approx(1.0).epsilon(0.1));
  CHECK(InterArrivalCv(*trace, false) == Approx(2.0).epsilon(0.25));
  std::vector<std::uint32_t> completion_out;
  std::vector<std::uint32_t> chat_out;
  for (const TraceRequest& request : *trace) {
    (request.fim ? completion_out : chat_out).push_back(request.output_tokens);
    CHECK(request.prompt_tokens >= 1);
    CHECK(request.output_tokens >= 1);
  }
  auto median = [](std::vector<std::uint32_t> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  CHECK(median(completion_out) == Approx(13).margin(2));
  CHECK(median(chat_out) == Approx(129).margin(10));

  // The default, very bursty completion traffic (CV 13): a rough rate, clearly bursty.
  options.completion_cv = 13.0;
  absl::StatusOr<std::vector<TraceRequest>> bursty = GenerateSynthetic(fleet, options);
  REQUIRE(bursty.ok());
  CHECK(static_cast<double>(CountFim(*bursty, true)) == Approx(2.6 * 3600).epsilon(0.4));
  CHECK(InterArrivalCv(*bursty, true) > 5);
}

TEST_CASE("synthetic options are checked", "[synthetic]") {
  const std::vector<FleetModel> fleet = ExampleFleet();
  SyntheticOptions options;
  options.duration = 0;
  CHECK(GenerateSynthetic(fleet, options).status().code() == absl::StatusCode::kInvalidArgument);
  options = {};
  options.completion_rate = -1;
  CHECK_FALSE(GenerateSynthetic(fleet, options).ok());
  options = {};
  options.conversation_cv = 0;
  CHECK_FALSE(GenerateSynthetic(fleet, options).ok());
  options = {};
  options.completion_rate = 1e9;
  CHECK_FALSE(GenerateSynthetic(fleet, options).ok());
  options = {};
  options.conversation_rate = 0;  // completion traffic only
  options.duration = 60;
  absl::StatusOr<std::vector<TraceRequest>> trace = GenerateSynthetic(fleet, options);
  REQUIRE(trace.ok());
  CHECK(CountFim(*trace, false) == 0);
}

}  // namespace
}  // namespace cace
