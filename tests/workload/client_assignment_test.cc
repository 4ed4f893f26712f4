// The ServeGen-derived assignment: the facts it reads, and that what it generates has the shares,
// drift and burstiness it claims, within the tolerances stated at each check.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "lib/workload/client_assignment.h"
#include "lib/workload/random.h"
#include "lib/workload/servegen_facts.h"

namespace cace {
namespace {

const ServeGenFacts& Facts() {
  static const ServeGenFacts facts = [] {
    absl::StatusOr<ServeGenFacts> read = ReadServeGenFacts(CACE_DATA_DIR "/traces/servegen");
    REQUIRE(read.ok());
    return *read;
  }();
  return facts;
}

ServeGenAssignmentParameters Parameters() {
  absl::StatusOr<ServeGenAssignmentParameters> params = DeriveAssignmentParameters(Facts());
  REQUIRE(params.ok());
  return *params;
}

std::vector<FleetModel> Fleet() {
  absl::StatusOr<std::vector<FleetModel>> fleet =
      ReadFleetCsv(CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv");
  REQUIRE(fleet.ok());
  return *fleet;
}

// Poisson completion traffic: `requests` arrivals at one per `gap` seconds on average.
std::vector<RawRequest> PoissonTraffic(std::size_t requests, double gap, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<RawRequest> traffic(requests);
  double t = 0;
  for (RawRequest& r : traffic) {
    t += -std::log(rng.UniformPositive()) * gap;
    r = RawRequest{t, 100, 10};
  }
  return traffic;
}

double StdDev(const std::vector<double>& xs) {
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  double sq = 0;
  for (double x : xs) sq += (x - mean) * (x - mean);
  return std::sqrt(sq / static_cast<double>(xs.size()));
}

TEST_CASE("the ServeGen facts are those its README states") {
  const ServeGenFacts& facts = Facts();
  REQUIRE(facts.models.size() == 5);
  // data/traces/servegen/README.md: day 1, m-mid 50.9 %, m-small 37.5 %, m-large 10.6 %,
  // deepseek-r1 0.61 %, mm-image 0.36 %; top client 52 % (m-mid), 30 % (m-small), 16 % (m-large).
  CHECK(facts.models[0].name == "m-mid");
  CHECK(facts.models[0].share == Approx(0.509).margin(0.001));
  CHECK(facts.models[1].share == Approx(0.375).margin(0.001));
  CHECK(facts.models[2].share == Approx(0.106).margin(0.001));
  CHECK(facts.models[3].share == Approx(0.0061).margin(0.0001));
  CHECK(facts.models[4].share == Approx(0.0036).margin(0.0001));
  CHECK(facts.models[0].client_shares.front() == Approx(0.52).margin(0.005));
  CHECK(facts.models[1].client_shares.front() == Approx(0.30).margin(0.005));
  CHECK(facts.models[2].client_shares.front() == Approx(0.16).margin(0.005));
  // Burstiness: per-client CV 1.6-5.9 (Poisson = 1).
  for (const ServeGenModel& m : facts.models) {
    CHECK(m.client_cv >= 1.6);
    CHECK(m.client_cv <= 5.9);
  }
  CHECK(facts.drift_models == std::vector<std::string>{"m-large", "m-mid", "m-small"});
  CHECK(facts.hourly_log_share_change_sd > 0);
  CHECK(facts.log_share_level_sd > facts.hourly_log_share_change_sd);
}

TEST_CASE("a class takes the first n ranked shares, renormalised; more ranks continue the tail") {
  const ServeGenAssignmentParameters params = Parameters();
  const std::vector<double> four = RankShares(params, 4);
  const double sum4 = params.ranks[0].share + params.ranks[1].share + params.ranks[2].share +
                      params.ranks[3].share;
  CHECK(four[0] == Approx(params.ranks[0].share / sum4));
  CHECK(four[3] == Approx(params.ranks[3].share / sum4));
  const std::vector<double> seven = RankShares(params, 7);
  CHECK(seven[5] / seven[4] == Approx(params.ranks[4].share / params.ranks[3].share));
  CHECK(seven[6] / seven[5] == Approx(seven[5] / seven[4]));
}

TEST_CASE("the drift process has the measured hourly change and level (within 10 %)") {
  const ServeGenAssignmentParameters params = Parameters();
  ShareDrift drift(RankShares(params, 5), params, 7);
  // 20,000 hours, read on the hour: the process's log deviations and the shares in force.
  std::vector<std::vector<double>> levels(5), changes(5);
  std::vector<double> previous;
  std::vector<double> mean_share(5, 0.0);
  const int hours = 20000;
  for (int h = 0; h < hours; ++h) {
    const std::vector<double>& shares = drift.SharesAt(h * 3600.0);
    const std::vector<double>& x = drift.LogDeviations();
    for (std::size_t r = 0; r < 5; ++r) {
      levels[r].push_back(x[r]);
      if (!previous.empty()) changes[r].push_back(x[r] - previous[r]);
      mean_share[r] += shares[r] / hours;
    }
    previous = x;
  }
  for (std::size_t r = 0; r < 5; ++r) {
    CHECK(StdDev(levels[r]) == Approx(Facts().log_share_level_sd).epsilon(0.10));
    CHECK(StdDev(changes[r]) == Approx(Facts().hourly_log_share_change_sd).epsilon(0.10));
  }
  // Over time each model's share averages its base share (within 10 % of it).
  const std::vector<double> base = RankShares(params, 5);
  for (std::size_t r = 0; r < 5; ++r) CHECK(mean_share[r] == Approx(base[r]).epsilon(0.10));
}

TEST_CASE("the assignment reproduces the rank shares and the clients' burstiness it claims") {
  const std::vector<FleetModel> fleet = Fleet();
  const ServeGenAssignmentParameters params = Parameters();
  // 1,000 hours of completion traffic, one request per 3 s.
  const std::vector<RawRequest> traffic = PoissonTraffic(1'200'000, 3.0, 11);
  ClientAssignmentOptions options{.seed = 3, .rate_scale = 1.0, .parameters = params};
  absl::StatusOr<std::vector<TraceRequest>> trace = AssignModelsByClients(traffic, {}, fleet, options);
  REQUIRE(trace.ok());
  const std::vector<std::size_t> ranked = RankedModels(fleet, true, options.seed);
  const std::vector<double> base = RankShares(params, ranked.size());
  std::map<std::string, double> count;
  for (const TraceRequest& r : *trace) count[r.model] += 1;
  // Each rank's share within 0.03 of its base share (the drift's slow wander over 1,000 hours
  // leaves about 0.015 of spread on the dominant model's share).
  for (std::size_t r = 0; r < ranked.size(); ++r) {
    CHECK(count[fleet[ranked[r]].name] / static_cast<double>(trace->size()) ==
          Approx(base[r]).margin(0.03));
  }
}

TEST_CASE("each client gets its share of its model, and its gaps have its measured CV") {
  // A class of one model: its share is always 1, so the clients' race alone decides.
  const ServeGenAssignmentParameters params = Parameters();
  for (std::size_t source = 0; source < params.ranks.size(); ++source) {
    ServeGenAssignmentParameters one = params;
    one.ranks = {params.ranks[source]};
    ClientRace race(1, one, 9, 0);
    const std::size_t picks = 200'000;
    std::size_t taken = 0;
    for (std::size_t i = 0; i < picks; ++i) taken += race.Next(0).client == 0;
    // The largest client's share of its model, within 0.02.
    CHECK(static_cast<double>(taken) / picks == Approx(one.ranks[0].client_shares[0]).margin(0.02));
  }
  // The CV: requests are whole, so a gap is at least one request and a client whose gaps are a
  // few requests long shows less burstiness than its process has; a client with 2 % of its
  // model (gaps of 50 requests on average) shows its CV within 15 %.
  for (const ServeGenRank& rank : params.ranks) {
    ServeGenAssignmentParameters one = params;
    one.ranks = {rank};
    one.ranks[0].client_shares = {0.02, 0.98};
    ClientRace race(1, one, 13, 0);
    std::vector<double> gaps;
    std::size_t last = 0;
    bool seen = false;
    for (std::size_t i = 0; i < 2'000'000; ++i) {
      if (race.Next(0).client != 0) continue;
      if (seen) gaps.push_back(static_cast<double>(i - last));
      seen = true;
      last = i;
    }
    double mean = 0;
    for (double g : gaps) mean += g;
    mean /= static_cast<double>(gaps.size());
    CHECK(mean == Approx(50).epsilon(0.05));
    CHECK(StdDev(gaps) / mean == Approx(rank.client_cv).epsilon(0.15));
  }
}

TEST_CASE("the same seed gives the same assignment; another seed another") {
  const std::vector<FleetModel> fleet = Fleet();
  const std::vector<RawRequest> completions = PoissonTraffic(20'000, 0.5, 1);
  const std::vector<RawRequest> chats = PoissonTraffic(20'000, 0.5, 2);
  ClientAssignmentOptions options{.seed = 4, .rate_scale = 0.5, .parameters = Parameters()};
  auto a = AssignModelsByClients(completions, chats, fleet, options);
  auto b = AssignModelsByClients(completions, chats, fleet, options);
  options.seed = 5;
  auto c = AssignModelsByClients(completions, chats, fleet, options);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  REQUIRE(a->size() == 40'000);
  std::size_t same_as_b = 0, same_as_c = 0;
  for (std::size_t i = 0; i < a->size(); ++i) {
    same_as_b += (*a)[i].model == (*b)[i].model && (*a)[i].arrival == (*b)[i].arrival;
    same_as_c += (*a)[i].model == (*c)[i].model;
  }
  CHECK(same_as_b == a->size());
  CHECK(same_as_c < a->size() * 9 / 10);
  // rate_scale 0.5 doubles the times: the last arrival of 20,000 at 0.5 s lands near 20,000 s.
  CHECK(a->back().arrival > 15'000);
}

// A ServeGen folder under the temporary directory with the two derived tables given.
class ServeGenDir {
 public:
  ServeGenDir(const std::string& rates, const std::string& clients) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("cace_servegen_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::create_directories(path_ + "/derived");
    std::ofstream(path_ + "/derived/model_rate_10min.csv") << rates;
    std::ofstream(path_ + "/derived/client_totals.csv") << clients;
  }
  ~ServeGenDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_CASE("malformed ServeGen tables are errors naming the file and line") {
  const std::string header = "model,window_start_s,rate_rps,active_clients,ratew_mean_client_cv,est_requests\n";
  const std::string clients = "model,client,est_requests,share_of_model\na,1,10,1\nb,1,10,1\n";
  {
    ServeGenDir dir(header + "a,0,1,1,2.0,600\na,600,1,1,x,600\n", clients);
    auto facts = ReadServeGenFacts(dir.path());
    REQUIRE_FALSE(facts.ok());
    CHECK_THAT(std::string(facts.status().message()),
               Catch::Contains("model_rate_10min.csv:3") && Catch::Contains("ratew_mean_client_cv"));
  }
  {
    ServeGenDir dir("model,window_start_s\na,0\n", clients);
    CHECK(ReadServeGenFacts(dir.path()).status().code() == absl::StatusCode::kInvalidArgument);
  }
  {
    // A model without clients.
    ServeGenDir dir(header + "a,0,1,1,2.0,600\nc,0,1,1,2.0,600\n", clients);
    auto facts = ReadServeGenFacts(dir.path());
    REQUIRE_FALSE(facts.ok());
    CHECK_THAT(std::string(facts.status().message()), Catch::Contains("'c' has no clients"));
  }
  {
    // Well formed, but one window each: no drift can be measured, so no parameters.
    ServeGenDir dir(header + "a,0,1,1,2.0,600\nb,0,1,1,2.0,300\n", clients);
    auto facts = ReadServeGenFacts(dir.path());
    REQUIRE(facts.ok());
    CHECK(facts->models[0].share == Approx(2.0 / 3));
    CHECK(DeriveAssignmentParameters(*facts).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("bad parameters are clear errors") {
  ServeGenAssignmentParameters params = Parameters();
  params.drift_phi_per_hour = 1.0;
  auto trace = AssignModelsByClients(PoissonTraffic(10, 1.0, 1), {}, Fleet(),
                                     ClientAssignmentOptions{.parameters = params});
  CHECK(trace.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReadServeGenFacts("/nonexistent").status().code() != absl::StatusCode::kOk);
}

}  // namespace
}  // namespace cace
