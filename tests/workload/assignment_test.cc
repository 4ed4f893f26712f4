#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>

#include "lib/workload/trace.h"

namespace cace {
namespace {

const std::string kTraces = CACE_DATA_DIR "/traces/";

std::vector<FleetModel> ExampleFleet() {
  absl::StatusOr<std::vector<FleetModel>> fleet =
      ReadFleetCsv(CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv");
  REQUIRE(fleet.ok());
  return *fleet;
}

struct Traffic {
  std::vector<RawRequest> code;
  std::vector<RawRequest> conv;
};

const Traffic& AzureTraffic() {
  static const Traffic traffic = [] {
    Traffic t;
    t.code = *ReadAzureTrace(kTraces + "azure_llm_2023_code.csv");
    t.conv = *ReadAzureTrace(kTraces + "azure_llm_2023_conv.csv");
    return t;
  }();
  return traffic;
}

std::vector<TraceRequest> Assign(const AssignmentOptions& options,
                                 const std::vector<FleetModel>& fleet = ExampleFleet()) {
  absl::StatusOr<std::vector<TraceRequest>> trace =
      AssignModels(AzureTraffic().code, AzureTraffic().conv, fleet, options);
  REQUIRE(trace.ok());
  return *trace;
}

ModelRole RoleOf(const std::vector<FleetModel>& fleet, const std::string& name) {
  for (const FleetModel& model : fleet) {
    if (model.name == name) return model.role;
  }
  FAIL("model " << name << " is not in the fleet");
  return ModelRole::kBoth;
}

// Fraction of requests of one class (completion: fim) whose model is that of the previous
// request of the same class.
double RepeatRate(const std::vector<TraceRequest>& trace, bool fim) {
  const std::string* previous = nullptr;
  int repeats = 0;
  int pairs = 0;
  for (const TraceRequest& request : trace) {
    if (request.fim != fim) continue;
    if (previous != nullptr) {
      ++pairs;
      repeats += *previous == request.model ? 1 : 0;
    }
    previous = &request.model;
  }
  return static_cast<double>(repeats) / pairs;
}

std::map<std::string, int> Counts(const std::vector<TraceRequest>& trace, bool fim) {
  std::map<std::string, int> counts;
  for (const TraceRequest& request : trace) {
    if (request.fim == fim) ++counts[request.model];
  }
  return counts;
}

TEST_CASE("the assigned Azure hour: every request, sorted, from 0, classes on their models", "[assign]") {
  const std::vector<FleetModel> fleet = ExampleFleet();
  const std::vector<TraceRequest> trace = Assign({}, fleet);
  REQUIRE(trace.size() == 8819 + 19366);
  CHECK(trace.front().arrival == 0);
  CHECK(std::is_sorted(trace.begin(), trace.end(), [](const TraceRequest& a, const TraceRequest& b) {
    return a.arrival < b.arrival;
  }));
  // The conversation trace starts 77.3 s before the code trace; the code trace's first request
  // keeps that offset.
  const auto first_completion =
      std::find_if(trace.begin(), trace.end(), [](const TraceRequest& r) { return r.fim; });
  REQUIRE(first_completion != trace.end());
  CHECK(first_completion->arrival == Approx(77.29937).margin(1e-6));
  CHECK(first_completion->prompt_tokens == 4808);
  int completions = 0;
  for (const TraceRequest& request : trace) {
    INFO(request.model << " at " << request.arrival);
    const ModelRole role = RoleOf(fleet, request.model);
    CHECK_FALSE(request.kind.has_value());
    if (request.fim) {
      ++completions;
      CHECK(role != ModelRole::kConversation);
      CHECK(request.max_tokens == 64);
    } else {
      CHECK(role != ModelRole::kCompletion);
      CHECK(request.max_tokens >= 256);
      CHECK(request.max_tokens >= request.output_tokens);
      CHECK(std::has_single_bit(request.max_tokens));
      CHECK((request.max_tokens == 256 || request.max_tokens / 2 < request.output_tokens));
    }
  }
  CHECK(completions == 8819);
  // Every model of the fleet gets traffic over the hour.
  std::map<std::string, int> all = Counts(trace, true);
  for (const auto& [name, count] : Counts(trace, false)) all[name] += count;
  CHECK(all.size() == fleet.size());
}

TEST_CASE("assignment is a function of the seed", "[assign]") {
  AssignmentOptions options;
  options.seed = 7;
  const std::vector<TraceRequest> a = Assign(options);
  const std::vector<TraceRequest> b = Assign(options);
  REQUIRE(a.size() == b.size());
  bool identical = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    identical = identical && a[i].model == b[i].model && a[i].arrival == b[i].arrival &&
                a[i].prompt_tokens == b[i].prompt_tokens && a[i].max_tokens == b[i].max_tokens;
  }
  CHECK(identical);
  options.seed = 8;
  const std::vector<TraceRequest> c = Assign(options);
  REQUIRE(c.size() == a.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].arrival == c[i].arrival);  // the seed picks models, not times
    differing += a[i].model != c[i].model ? 1 : 0;
  }
  CHECK(differing > a.size() / 4);
}

TEST_CASE("one class's assignment does not depend on the other class's traffic", "[assign]") {
  const std::vector<FleetModel> fleet = ExampleFleet();
  absl::StatusOr<std::vector<TraceRequest>> both =
      AssignModels(AzureTraffic().code, AzureTraffic().conv, fleet, {});
  // Without conversation traffic the merged trace starts at the code trace's first request,
  // 77.3 s later, so the same drift periods need the code trace alone shifted back by as much.
  std::vector<RawRequest> code = AzureTraffic().code;
  std::vector<RawRequest> early = {{AzureTraffic().conv.front().arrival, 1, 1}};
  absl::StatusOr<std::vector<TraceRequest>> alone = AssignModels(code, early, fleet, {});
  REQUIRE(both.ok());
  REQUIRE(alone.ok());
  std::vector<std::string> models_both;
  std::vector<std::string> models_alone;
  for (const TraceRequest& r : *both) if (r.fim) models_both.push_back(r.model);
  for (const TraceRequest& r : *alone) if (r.fim) models_alone.push_back(r.model);
  CHECK(models_both == models_alone);
}

TEST_CASE("popularity is skewed toward the top model of a class", "[assign]") {
  AssignmentOptions options;
  options.drift_period = std::numeric_limits<double>::infinity();  // one ranking all hour
  const std::vector<TraceRequest> trace = Assign(options);
  for (bool fim : {true, false}) {
    INFO((fim ? "completion" : "conversation"));
    std::map<std::string, int> counts = Counts(trace, fim);
    int total = 0;
    int top = 0;
    for (const auto& [name, count] : counts) {
      total += count;
      top = std::max(top, count);
    }
    const double n = fim ? 5 : 4;  // models taking the class in the example fleet
    // Zipf(1.1) gives the top of 5 models about 46 %, of 4 about 50 %; uniform would be 1/n.
    CHECK(static_cast<double>(top) / total > 1.6 / n);
  }
}

TEST_CASE("drift changes which model is on top", "[assign]") {
  AssignmentOptions options;
  options.drift_period = 600;
  const std::vector<TraceRequest> trace = Assign(options);
  std::map<int, std::map<std::string, int>> by_period;
  for (const TraceRequest& request : trace) {
    if (!request.fim) ++by_period[static_cast<int>(request.arrival / 600)][request.model];
  }
  std::map<std::string, int> tops;
  for (const auto& [period, counts] : by_period) {
    auto top = std::max_element(counts.begin(), counts.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
    ++tops[top->first];
  }
  CHECK(tops.size() >= 2);
}

TEST_CASE("sessions make consecutive requests repeat their model", "[assign]") {
  AssignmentOptions options;
  options.drift_period = std::numeric_limits<double>::infinity();
  options.sessions = 1;
  options.session_requests = 20;
  const double with_sessions = RepeatRate(Assign(options), true);
  options.session_requests = 1;  // every request draws afresh: independent draws
  const double independent = RepeatRate(Assign(options), true);
  // Independent Zipf(1.1) draws over 5 models repeat with probability sum p^2 = 0.30; a
  // session of mean length 20 repeats 19 times in 20, plus independent repeats at its end.
  CHECK(independent == Approx(0.30).margin(0.03));
  CHECK(with_sessions > 0.9);
  // With the default 16 open sessions a class still repeats more than independent draws would.
  options.sessions = 16;
  options.session_requests = 20;
  CHECK(RepeatRate(Assign(options), true) > independent + 0.02);
}

TEST_CASE("sessions 0 derives each class's sessions from its rate and think time") {
  // 10 completions over 9 s (rate 10/9 per s) and 10 chats over 90 s (1/9 per s).
  std::vector<RawRequest> code, conv;
  for (int i = 0; i < 10; ++i) {
    code.push_back({static_cast<double>(i), 10, 10});
    conv.push_back({10.0 * i, 10, 10});
  }
  const std::vector<FleetModel> fleet = ExampleFleet();
  auto assign = [&](const AssignmentOptions& options) {
    absl::StatusOr<std::vector<TraceRequest>> trace = AssignModels(code, conv, fleet, options);
    REQUIRE(trace.ok());
    std::vector<std::string> models;
    for (const TraceRequest& r : *trace) models.push_back(r.model);
    return models;
  };
  AssignmentOptions derived;
  derived.sessions = 0;
  derived.session_requests = 1000;  // sessions keep their model: the session count shows
  AssignmentOptions fixed = derived;
  fixed.sessions = 1;
  const std::vector<std::string> one_session = assign(fixed);
  fixed.sessions = 10;
  REQUIRE(assign(fixed) != one_session);  // so the comparisons below can tell the counts apart
  for (const auto& [think, sessions] : std::vector<std::pair<double, int>>{{0.9, 1}, {9.0, 10}}) {
    // Completions: 10/9 per s x think; chats: 1/9 per s x 10 x think, so both classes get `sessions`.
    derived.completion_think_seconds = think;
    derived.conversation_think_seconds = 10 * think;
    fixed.sessions = sessions;
    CHECK(assign(derived) == assign(fixed));
  }
  // Doubling the rate doubles the sessions: rate_scale 2 with think 4.5 is the 10-session case.
  derived.rate_scale = 2;
  derived.completion_think_seconds = 4.5;
  derived.conversation_think_seconds = 45;
  fixed.sessions = 10;
  fixed.rate_scale = 2;
  CHECK(assign(derived) == assign(fixed));
}

TEST_CASE("rate_scale 2 halves the span", "[assign]") {
  const std::vector<TraceRequest> normal = Assign({});
  AssignmentOptions options;
  options.rate_scale = 2.0;
  const std::vector<TraceRequest> fast = Assign(options);
  REQUIRE(fast.size() == normal.size());
  CHECK(fast.back().arrival == Approx(normal.back().arrival / 2).epsilon(1e-12));
  CHECK(fast.front().arrival == 0);
}

TEST_CASE("assignment errors", "[assign]") {
  std::vector<FleetModel> fleet = ExampleFleet();
  std::vector<RawRequest> some = {{1, 10, 10}, {2, 10, 10}};
  SECTION("no model for a class with traffic") {
    std::vector<FleetModel> completion_only;
    for (const FleetModel& model : fleet) {
      if (model.role == ModelRole::kCompletion) completion_only.push_back(model);
    }
    absl::StatusOr<std::vector<TraceRequest>> trace = AssignModels(some, some, completion_only, {});
    REQUIRE_FALSE(trace.ok());
    CHECK_THAT(std::string(trace.status().message()), Catch::Contains("conversation traffic"));
    // Without conversation traffic, that fleet is fine.
    CHECK(AssignModels(some, {}, completion_only, {}).ok());
  }
  SECTION("bad options") {
    for (auto change : std::vector<void (*)(AssignmentOptions&)>{
             [](AssignmentOptions& o) { o.rate_scale = 0; },
             [](AssignmentOptions& o) { o.sessions = -1; },
             [](AssignmentOptions& o) { o.completion_think_seconds = 0; },
             [](AssignmentOptions& o) { o.conversation_think_seconds = std::nan(""); },
             [](AssignmentOptions& o) { o.sessions = 2'000'000'000; },
             [](AssignmentOptions& o) { o.session_requests = 0.5; },
             [](AssignmentOptions& o) { o.drift_period = 0; },
             [](AssignmentOptions& o) { o.zipf_s = -1; },
         }) {
      AssignmentOptions options;
      change(options);
      CHECK(AssignModels(some, some, fleet, options).status().code() ==
            absl::StatusCode::kInvalidArgument);
    }
  }
  SECTION("duplicate model names") {
    fleet.push_back(fleet.front());
    CHECK_FALSE(AssignModels(some, some, fleet, {}).ok());
  }
  SECTION("no traffic is an empty trace") {
    absl::StatusOr<std::vector<TraceRequest>> trace = AssignModels({}, {}, fleet, {});
    REQUIRE(trace.ok());
    CHECK(trace->empty());
  }
}

}  // namespace
}  // namespace cace
