// The client-based assignment of client_assignment.h. Each class's requests are labelled in
// arrival order by a race of its clients' renewal processes counted in requests: a client whose
// next request is due first takes the next request of the class, then draws its next gap. Counted
// in requests, each client's share of the class is its model's share times its share of the model
// whatever the arrival times, and its gaps have its measured CV.
#include "lib/workload/client_assignment.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "fmt/format.h"
#include "lib/workload/class_traffic.h"

namespace cace {
namespace {

// Stream ids under the run's seed, per class (+ class index).
constexpr std::uint64_t kRankStream = 0x300;
constexpr std::uint64_t kDriftStream = 0x400;
constexpr std::uint64_t kClientStream = 0x500;
constexpr double kHour = 3600;

// The seed's order of a class's eligible models: rank r is held by models[r].
std::vector<std::size_t> PermuteRanks(std::vector<std::size_t> models, TrafficClass traffic,
                                      std::uint64_t seed) {
  Rng shuffle(StreamSeed(seed, kRankStream + static_cast<std::uint64_t>(traffic)));
  for (std::size_t i = models.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(models[i - 1], models[shuffle.Index(i)]);
  }
  return models;
}

}  // namespace

ClientRace::ClientRace(std::size_t ranks, const ServeGenAssignmentParameters& params,
                       std::uint64_t seed, std::uint64_t class_index)
    : drift_(RankShares(params, ranks), params, StreamSeed(seed, kDriftStream + class_index)),
      rng_(StreamSeed(seed, kClientStream + class_index)) {
  const std::vector<double>& shares = drift_.SharesAt(0);
  for (std::size_t r = 0; r < ranks; ++r) {
    const ServeGenRank& source = params.ranks[std::min(r, params.ranks.size() - 1)];
    for (double share : source.client_shares) {
      clients_.push_back({r, share, source.client_cv});
      // A stationary start: a uniform point inside one gap.
      due_.push({rng_.Uniform() * Gap(clients_.back(), shares), clients_.size() - 1});
    }
  }
}

ClientRace::Pick ClientRace::Next(Seconds time) {
  const std::vector<double>& shares = drift_.SharesAt(time);
  auto [due, index] = due_.top();
  due_.pop();
  due_.push({due + Gap(clients_[index], shares), index});
  return {clients_[index].rank, index};
}

double ClientRace::Gap(const Client& client, const std::vector<double>& shares) {
  const double shape = 1 / (client.cv * client.cv);
  return rng_.Gamma(shape) / shape / (shares[client.rank] * client.share_of_model);
}

std::vector<double> RankShares(const ServeGenAssignmentParameters& parameters, std::size_t n) {
  std::vector<double> shares;
  for (const ServeGenRank& rank : parameters.ranks) shares.push_back(rank.share);
  while (shares.size() < n) {
    const std::size_t k = shares.size();
    shares.push_back(k >= 2 ? shares[k - 1] * shares[k - 1] / shares[k - 2] : 1.0);
  }
  shares.resize(n);
  double total = 0;
  for (double s : shares) total += s;
  for (double& s : shares) s /= total;
  return shares;
}

ShareDrift::ShareDrift(std::vector<double> base_shares, const ServeGenAssignmentParameters& parameters,
                       std::uint64_t seed)
    : base_(std::move(base_shares)),
      phi_(std::pow(parameters.drift_phi_per_hour, parameters.drift_window_seconds / kHour)),
      innovation_(parameters.log_share_level_sd * std::sqrt(1 - phi_ * phi_)),
      level_sd_(parameters.log_share_level_sd),
      window_(parameters.drift_window_seconds),
      seed_(seed),
      log_deviation_(base_.size()),
      shares_(base_.size()) {
  Rng rng(StreamSeed(seed_, 0));
  for (double& x : log_deviation_) x = level_sd_ * rng.Normal();  // a stationary start
  Step();
}

// Advances the deviations to step steps_ (each window its own stream, so a window's shares depend
// on the seed and the window alone) and recomputes the shares. The log weights are centred at
// -sd^2/2 so that each model's weight averages its base share.
void ShareDrift::Step() {
  double total = 0;
  for (std::size_t r = 0; r < base_.size(); ++r) {
    shares_[r] = base_[r] * std::exp(log_deviation_[r] - level_sd_ * level_sd_ / 2);
    total += shares_[r];
  }
  for (double& s : shares_) s /= total;
}

const std::vector<double>& ShareDrift::SharesAt(Seconds time) {
  const double window = std::floor(std::max(time, 0.0) / window_);
  while (static_cast<double>(steps_) < window) {
    ++steps_;
    Rng rng(StreamSeed(seed_, steps_));
    for (double& x : log_deviation_) x = phi_ * x + innovation_ * rng.Normal();
    Step();
  }
  return shares_;
}

std::vector<std::size_t> RankedModels(std::span<const FleetModel> fleet, bool completion,
                                      std::uint64_t seed) {
  const TrafficClass traffic = completion ? TrafficClass::kCompletion : TrafficClass::kConversation;
  return PermuteRanks(EligibleModels(fleet, traffic), traffic, seed);
}

absl::StatusOr<std::vector<TraceRequest>> AssignModelsByClients(
    std::span<const RawRequest> completion_traffic, std::span<const RawRequest> conversation_traffic,
    std::span<const FleetModel> fleet, const ClientAssignmentOptions& options) {
  const ServeGenAssignmentParameters& params = options.parameters;
  if (params.ranks.empty() || !(params.drift_window_seconds > 0) ||
      !(params.drift_phi_per_hour >= 0 && params.drift_phi_per_hour < 1) ||
      !(params.log_share_level_sd >= 0)) {
    return absl::InvalidArgumentError(
        "client assignment: parameters need ranks, a window > 0, phi in [0, 1) and a level sd >= 0");
  }
  for (const ServeGenRank& rank : params.ranks) {
    if (!(rank.share > 0) || rank.client_shares.empty() || !(rank.client_cv > 0)) {
      return absl::InvalidArgumentError(fmt::format(
          "client assignment: rank '{}' needs a share > 0, clients and a CV > 0", rank.source_model));
    }
  }
  auto make_picker = [&](TrafficClass traffic, std::vector<std::size_t> models, std::size_t,
                         Seconds) -> absl::StatusOr<ModelPicker> {
    const std::size_t ranks = models.size();
    auto race = std::make_shared<ClientRace>(ranks, params, options.seed,
                                             static_cast<std::uint64_t>(traffic));
    return ModelPicker([race, ranked = PermuteRanks(std::move(models), traffic, options.seed)](
                           Seconds time) { return ranked[race->Next(time).rank]; });
  };
  return AssignByClass(completion_traffic, conversation_traffic, fleet, options.rate_scale,
                       make_picker);
}

}  // namespace cace
