// The seeded rule of trace.h that turns model-less public traffic into an enterprise's traffic
// on a fleet. Each class (completion, conversation) draws from its own random streams, so one
// class's assignment does not change when the other's traffic does.
#include <algorithm>
#include <cmath>
#include <memory>

#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/class_traffic.h"
#include "lib/workload/random.h"

namespace cace {
namespace {

// Stream ids under the run's seed: sessions of a class, and its ranking in each drift period.
constexpr std::uint64_t kSessionStream = 0x100;
constexpr std::uint64_t kRankingStream = 0x200;

// Each open session is a few bytes; a million is more than any fleet's users.
constexpr int kMaxSessions = 1'000'000;

// Assigns one class's requests (already in arrival order) to its eligible models.
class ClassAssigner {
 public:
  ClassAssigner(TrafficClass traffic, std::vector<std::size_t> models,
                const AssignmentOptions& options, std::size_t sessions)
      : traffic_(traffic),
        models_(std::move(models)),
        options_(options),
        zipf_(models_.size(), options.zipf_s),
        rng_(StreamSeed(options.seed, kSessionStream + static_cast<std::uint64_t>(traffic))),
        sessions_(sessions) {}

  // The fleet index of the model serving a request that arrives at `time` (output clock).
  std::size_t Next(Seconds time) {
    UpdateRanking(time);
    Session& session = sessions_[rng_.Index(sessions_.size())];
    if (session.requests_left == 0) {
      session.model = ranking_[zipf_.Sample(rng_)];
      session.requests_left = rng_.Geometric(options_.session_requests);
    }
    --session.requests_left;
    return session.model;
  }

 private:
  struct Session {
    std::size_t model = 0;
    std::uint64_t requests_left = 0;  // 0: the next request opens a new session
  };

  // Each drift period has its own ranking drawn from its own stream, so the ranking in force at
  // a time depends only on the seed and the period, not on how much traffic came before.
  // Periods are counted on the replayed clock (after rate_scale): drift_period is what a replay
  // sees, whatever the compression.
  void UpdateRanking(Seconds time) {
    // Capped so that the stream id below stays exact even for a tiny period.
    const double period = std::min(std::floor(time / options_.drift_period), 0x1.0p50);
    if (!ranking_.empty() && period == period_) return;
    period_ = period;
    ranking_ = models_;
    const std::uint64_t stream = kRankingStream + static_cast<std::uint64_t>(traffic_) +
                                 (static_cast<std::uint64_t>(period) << 8);
    Rng shuffle(StreamSeed(options_.seed, stream));
    for (std::size_t i = ranking_.size(); i > 1; --i) {  // Fisher-Yates
      std::swap(ranking_[i - 1], ranking_[shuffle.Index(i)]);
    }
  }

  TrafficClass traffic_;
  std::vector<std::size_t> models_;
  const AssignmentOptions& options_;
  ZipfTable zipf_;
  Rng rng_;
  std::vector<Session> sessions_;
  std::vector<std::size_t> ranking_;  // ranking_[rank] = fleet index
  double period_ = 0;
};

absl::Status CheckOptions(const AssignmentOptions& options) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("assignment options: {}", what));
  };
  if (!std::isfinite(options.zipf_s) || options.zipf_s < 0) return bad("zipf_s must be >= 0");
  if (!(options.drift_period > 0)) return bad("drift_period must be > 0 (infinity: no drift)");
  if (!std::isfinite(options.session_requests) || options.session_requests < 1) {
    return bad("session_requests must be >= 1");
  }
  if (options.sessions < 0 || options.sessions > kMaxSessions) {
    return bad("sessions must be in [0, 1000000] (0: from the traffic)");
  }
  if (!(options.completion_think_seconds > 0) || !(options.conversation_think_seconds > 0) ||
      !std::isfinite(options.completion_think_seconds) ||
      !std::isfinite(options.conversation_think_seconds)) {
    return bad("think seconds must be finite and > 0");
  }
  if (!std::isfinite(options.rate_scale) || options.rate_scale <= 0) {
    return bad("rate_scale must be > 0");
  }
  return absl::OkStatus();
}

// Open sessions of a class whose `requests` arrive over `span` replayed seconds: the fixed number
// when given, else its rate times the think time (Little's law), at least 1.
std::size_t SessionCount(std::size_t requests, Seconds span, Seconds think,
                         const AssignmentOptions& options) {
  if (options.sessions > 0) return static_cast<std::size_t>(options.sessions);
  const double rate = span > 0 ? static_cast<double>(requests) / span : 0.0;
  return static_cast<std::size_t>(std::clamp(std::round(rate * think), 1.0, double{kMaxSessions}));
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> AssignModels(std::span<const RawRequest> completion_traffic,
                                                       std::span<const RawRequest> conversation_traffic,
                                                       std::span<const FleetModel> fleet,
                                                       const AssignmentOptions& options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  auto make_picker = [&options](TrafficClass traffic, std::vector<std::size_t> models,
                                std::size_t requests, Seconds span) -> absl::StatusOr<ModelPicker> {
    const Seconds think = traffic == TrafficClass::kCompletion ? options.completion_think_seconds
                                                               : options.conversation_think_seconds;
    auto assigner = std::make_shared<ClassAssigner>(traffic, std::move(models), options,
                                                    SessionCount(requests, span, think, options));
    return ModelPicker([assigner](Seconds time) { return assigner->Next(time); });
  };
  return AssignByClass(completion_traffic, conversation_traffic, fleet, options.rate_scale,
                       make_picker);
}

}  // namespace cace
