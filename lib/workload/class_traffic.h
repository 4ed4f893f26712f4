// What every model-assignment rule shares: public traffic split by class (completion,
// conversation), each class's requests in arrival order handed to a per-class picker that names
// their model, the limits a client sets (max_tokens, FIM), rate scaling, and the merge of both
// classes into one trace.
#ifndef CACE_LIB_WORKLOAD_CLASS_TRAFFIC_H_
#define CACE_LIB_WORKLOAD_CLASS_TRAFFIC_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/workload/fleet.h"
#include "lib/workload/trace.h"

namespace cace {

enum class TrafficClass : std::uint8_t { kCompletion = 0, kConversation = 1 };

// Fleet indices of the models whose role takes `traffic`, in fleet order.
std::vector<std::size_t> EligibleModels(std::span<const FleetModel> fleet, TrafficClass traffic);

// Names the model (fleet index) of each request of one class, called in arrival order with the
// request's time on the replayed clock.
using ModelPicker = std::function<std::size_t(Seconds arrival)>;
// Makes the picker of a class from its eligible models (non-empty), its request count and the
// span of its arrivals on the replayed clock.
using PickerFactory = std::function<absl::StatusOr<ModelPicker>(
    TrafficClass traffic, std::vector<std::size_t> models, std::size_t requests, Seconds span)>;

// Checks the fleet (no name twice, each non-empty class has an eligible model) and the arrivals
// (finite), divides arrival times by rate_scale (> 0) from the earliest arrival on, lets each
// class's picker name its models, and merges the classes in arrival order (completion first on
// ties). Completions are FIM prompts with max_tokens 64; conversations get max_tokens = the next
// power of two at or above their output, at least 256.
absl::StatusOr<std::vector<TraceRequest>> AssignByClass(std::span<const RawRequest> completion_traffic,
                                                        std::span<const RawRequest> conversation_traffic,
                                                        std::span<const FleetModel> fleet,
                                                        double rate_scale,
                                                        const PickerFactory& make_picker);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_CLASS_TRAFFIC_H_
