// CACE's weights by name, for hosts that set them from text: a config file (the HTTP server) or a
// foreign language (the C ABI's cace_engine_options_set_cace_weight). The names are the fields
// of CaceWeights, with latency_sensitivity split per kind: "latency_completion", "latency_chat",
// "latency_reasoning", "output_scale", "load_exponent", "size_exponent", "frequency_weight",
// "demand_weight", "queue_weight", "base_demand", "kind_prior", "drain_weight".
#ifndef CACE_CACE_WEIGHT_NAMES_H_
#define CACE_CACE_WEIGHT_NAMES_H_

#include <string_view>

#include "absl/status/status.h"
#include "cace/context_scorer.h"

namespace cace {

// NotFound for an unknown name (weights unchanged), InvalidArgument for a value that is NaN.
absl::Status SetCaceWeight(CaceWeights& weights, std::string_view name, double value);

}  // namespace cace

#endif  // CACE_CACE_WEIGHT_NAMES_H_
