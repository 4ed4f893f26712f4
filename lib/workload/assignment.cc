// The seeded rule of trace.h that turns model-less public traffic into an enterprise's traffic
// on a fleet. Each class (completion, conversation) draws from its own random streams, so one
// class's assignment does not change when the other's traffic does.
#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>

#include "absl/container/flat_hash_set.h"
#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/random.h"

namespace cace {
namespace {

enum class TrafficClass : std::uint8_t { kCompletion = 0, kConversation = 1 };

// Stream ids under the run's seed: sessions of a class, and its ranking in each drift period.
constexpr std::uint64_t kSessionStream = 0x100;
constexpr std::uint64_t kRankingStream = 0x200;

constexpr std::uint32_t kCompletionMaxTokens = 64;  // an editor plugin's limit for one completion
constexpr std::uint32_t kConversationMinMaxTokens = 256;
// Each open session is a few bytes; a million is more than any fleet's users.
constexpr int kMaxSessions = 1'000'000;

bool Takes(ModelRole role, TrafficClass traffic) {
  if (role == ModelRole::kBoth) return true;
  return traffic == TrafficClass::kCompletion ? role == ModelRole::kCompletion
                                              : role == ModelRole::kConversation;
}

std::uint32_t ChatLimit(std::uint32_t output_tokens) {
  const std::uint32_t at_least = std::max(output_tokens, kConversationMinMaxTokens);
  // Outputs beyond 2^31 have no power of two in uint32: the limit is then the output itself.
  return at_least > (1u << 31) ? at_least : std::bit_ceil(at_least);
}

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

// Indices of `traffic` in arrival order (stable: file order among equal times).
std::vector<std::size_t> ArrivalOrder(std::span<const RawRequest> traffic) {
  std::vector<std::size_t> order(traffic.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return traffic[a].arrival < traffic[b].arrival;
  });
  return order;
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> AssignModels(std::span<const RawRequest> completion_traffic,
                                                       std::span<const RawRequest> conversation_traffic,
                                                       std::span<const FleetModel> fleet,
                                                       const AssignmentOptions& options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  absl::flat_hash_set<std::string_view> names;
  for (const FleetModel& model : fleet) {
    if (!names.insert(model.name).second) {
      return absl::InvalidArgumentError(fmt::format("fleet: model '{}' appears twice", model.name));
    }
  }
  Seconds start = std::numeric_limits<double>::infinity();
  for (std::span<const RawRequest> traffic : {completion_traffic, conversation_traffic}) {
    for (const RawRequest& request : traffic) {
      if (!std::isfinite(request.arrival)) {
        return absl::InvalidArgumentError("traffic: an arrival time is not finite");
      }
      start = std::min(start, request.arrival);
    }
  }

  std::vector<TraceRequest> per_class[2];
  for (TrafficClass traffic : {TrafficClass::kCompletion, TrafficClass::kConversation}) {
    const bool completion = traffic == TrafficClass::kCompletion;
    std::span<const RawRequest> raw = completion ? completion_traffic : conversation_traffic;
    if (raw.empty()) continue;
    std::vector<std::size_t> models;
    for (std::size_t i = 0; i < fleet.size(); ++i) {
      if (Takes(fleet[i].role, traffic)) models.push_back(i);
    }
    if (models.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "fleet: no model takes {} traffic (role {} or both)",
          completion ? "completion" : "conversation", completion ? "completion" : "conversation"));
    }
    const std::vector<std::size_t> order = ArrivalOrder(raw);
    const Seconds span = (raw[order.back()].arrival - raw[order.front()].arrival) / options.rate_scale;
    const Seconds think =
        completion ? options.completion_think_seconds : options.conversation_think_seconds;
    ClassAssigner assigner(traffic, std::move(models), options,
                           SessionCount(raw.size(), span, think, options));
    std::vector<TraceRequest>& out = per_class[static_cast<int>(traffic)];
    out.reserve(raw.size());
    for (std::size_t index : order) {
      const RawRequest& request = raw[index];
      TraceRequest assigned;
      // Rounded to the nanosecond (monotone, so order is kept): the CSV then shows the trace's
      // own digits rather than the binary remainders of subtracting the start.
      assigned.arrival = std::round((request.arrival - start) / options.rate_scale * 1e9) / 1e9;
      assigned.model = fleet[assigner.Next(assigned.arrival)].name;
      assigned.prompt_tokens = request.prompt_tokens;
      assigned.output_tokens = request.output_tokens;
      assigned.fim = completion;
      assigned.max_tokens = completion ? kCompletionMaxTokens : ChatLimit(request.output_tokens);
      out.push_back(std::move(assigned));
    }
  }

  std::vector<TraceRequest> merged;
  merged.reserve(per_class[0].size() + per_class[1].size());
  // std::merge takes from the first range on ties: completion before conversation.
  std::merge(std::make_move_iterator(per_class[0].begin()), std::make_move_iterator(per_class[0].end()),
             std::make_move_iterator(per_class[1].begin()), std::make_move_iterator(per_class[1].end()),
             std::back_inserter(merged),
             [](const TraceRequest& a, const TraceRequest& b) { return a.arrival < b.arrival; });
  return merged;
}

}  // namespace cace
