#include "lib/workload/class_traffic.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace cace {
namespace {

constexpr std::uint32_t kCompletionMaxTokens = 64;  // an editor plugin's limit for one completion
constexpr std::uint32_t kConversationMinMaxTokens = 256;

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

std::vector<std::size_t> EligibleModels(std::span<const FleetModel> fleet, TrafficClass traffic) {
  std::vector<std::size_t> models;
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    if (Takes(fleet[i].role, traffic)) models.push_back(i);
  }
  return models;
}

absl::StatusOr<std::vector<TraceRequest>> AssignByClass(std::span<const RawRequest> completion_traffic,
                                                        std::span<const RawRequest> conversation_traffic,
                                                        std::span<const FleetModel> fleet,
                                                        double rate_scale,
                                                        const PickerFactory& make_picker) {
  if (!std::isfinite(rate_scale) || rate_scale <= 0) {
    return absl::InvalidArgumentError("assignment options: rate_scale must be > 0");
  }
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
    std::vector<std::size_t> models = EligibleModels(fleet, traffic);
    if (models.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "fleet: no model takes {} traffic (role {} or both)",
          completion ? "completion" : "conversation", completion ? "completion" : "conversation"));
    }
    const std::vector<std::size_t> order = ArrivalOrder(raw);
    const Seconds span = (raw[order.back()].arrival - raw[order.front()].arrival) / rate_scale;
    absl::StatusOr<ModelPicker> pick = make_picker(traffic, std::move(models), raw.size(), span);
    if (!pick.ok()) return pick.status();
    std::vector<TraceRequest>& out = per_class[static_cast<int>(traffic)];
    out.reserve(raw.size());
    for (std::size_t index : order) {
      const RawRequest& request = raw[index];
      TraceRequest assigned;
      // Rounded to the nanosecond (monotone, so order is kept): the CSV then shows the trace's
      // own digits rather than the binary remainders of subtracting the start.
      assigned.arrival = std::round((request.arrival - start) / rate_scale * 1e9) / 1e9;
      assigned.model = fleet[(*pick)(assigned.arrival)].name;
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
