// The default model assignment: public traffic divided between a fleet's models the way a real
// multi-model service divides it (ServeGen, servegen_facts.h). Each class (completion,
// conversation) has a dominant model and a tail, with shares that drift; its requests come from
// clients that each keep one model, few clients holding most of the volume, each bursty.
#ifndef CACE_LIB_WORKLOAD_CLIENT_ASSIGNMENT_H_
#define CACE_LIB_WORKLOAD_CLIENT_ASSIGNMENT_H_

#include <cstdint>
#include <functional>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/workload/fleet.h"
#include "lib/workload/trace.h"
#include "lib/workload/random.h"
#include "lib/workload/servegen_facts.h"

namespace cace {

struct ClientAssignmentOptions {
  std::uint64_t seed = 1;
  double rate_scale = 1.0;  // arrival times divided by it, as in AssignmentOptions
  ServeGenAssignmentParameters parameters;
};

// The base shares of a class of n models by rank (the rule of servegen_facts.h), summing to 1.
std::vector<double> RankShares(const ServeGenAssignmentParameters& parameters, std::size_t n);

// The shares in force over time for one class: base shares moved by the AR(1) drift of each
// model's log share, stepped every drift window. Depends only on the seed, the class's stream and
// the window, not on the traffic. Times must not decrease between calls.
class ShareDrift {
 public:
  ShareDrift(std::vector<double> base_shares, const ServeGenAssignmentParameters& parameters,
             std::uint64_t seed);
  const std::vector<double>& SharesAt(Seconds time);
  // Each model's log weight less its base share's log, before the shares are normalised: the
  // AR(1) process itself, whose level and hourly change have the measured spreads. (Normalising
  // makes a dominant model's share move less than a tail model's, as measured.)
  const std::vector<double>& LogDeviations() const { return log_deviation_; }

 private:
  void Step();
  std::vector<double> base_;
  double phi_ = 0;          // per window
  double innovation_ = 0;   // sd of each window's step
  double level_sd_ = 0;
  double window_ = 600;
  std::uint64_t seed_;
  std::uint64_t steps_ = 0;
  std::vector<double> log_deviation_;
  std::vector<double> shares_;
};

// One class's clients racing for its requests: each request, in arrival order, goes to the client
// whose next request is due first (counted in the class's requests), which then draws its next
// gap: Gamma with its rank's CV and a mean of 1 / (its model's share in force x its share of the
// model). Rank r's clients are those of parameters.ranks[r] (the last one's beyond).
class ClientRace {
 public:
  struct Pick {
    std::size_t rank = 0;
    std::size_t client = 0;  // index among all the class's clients, rank by rank
  };
  ClientRace(std::size_t ranks, const ServeGenAssignmentParameters& parameters, std::uint64_t seed,
             std::uint64_t class_index);
  Pick Next(Seconds time);

 private:
  struct Client {
    std::size_t rank = 0;
    double share_of_model = 0;
    double cv = 1;
  };
  double Gap(const Client& client, const std::vector<double>& shares);

  ShareDrift drift_;
  Rng rng_;
  std::vector<Client> clients_;
  // (due, client) with the earliest due on top; ties go to the lower client index.
  std::priority_queue<std::pair<double, std::size_t>, std::vector<std::pair<double, std::size_t>>,
                      std::greater<>>
      due_;
};

// Which fleet model holds each rank of a class for a seed: the class's eligible models
// (fleet order) permuted by the seed.
std::vector<std::size_t> RankedModels(std::span<const FleetModel> fleet, bool completion,
                                      std::uint64_t seed);

absl::StatusOr<std::vector<TraceRequest>> AssignModelsByClients(
    std::span<const RawRequest> completion_traffic, std::span<const RawRequest> conversation_traffic,
    std::span<const FleetModel> fleet, const ClientAssignmentOptions& options);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_CLIENT_ASSIGNMENT_H_
