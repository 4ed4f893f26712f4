#include "cace/cace_weight_names.h"

#include <cmath>
#include <string>

namespace cace {

absl::Status SetCaceWeight(CaceWeights& weights, std::string_view name, double value) {
  double* field = nullptr;
  if (name == "latency_completion") field = &weights.latency_sensitivity[KindIndex(TaskKind::kCompletion)];
  else if (name == "latency_chat") field = &weights.latency_sensitivity[KindIndex(TaskKind::kChat)];
  else if (name == "latency_reasoning") field = &weights.latency_sensitivity[KindIndex(TaskKind::kReasoning)];
  else if (name == "output_scale") field = &weights.output_scale;
  else if (name == "load_exponent") field = &weights.load_exponent;
  else if (name == "size_exponent") field = &weights.size_exponent;
  else if (name == "frequency_weight") field = &weights.frequency_weight;
  else if (name == "demand_weight") field = &weights.demand_weight;
  else if (name == "queue_weight") field = &weights.queue_weight;
  else if (name == "base_demand") field = &weights.base_demand;
  else if (name == "kind_prior") field = &weights.kind_prior;
  else if (name == "drain_weight") field = &weights.drain_weight;
  if (field == nullptr) return absl::NotFoundError("unknown CACE weight \"" + std::string(name) + "\"");
  if (std::isnan(value)) return absl::InvalidArgumentError("CACE weight \"" + std::string(name) + "\" is NaN");
  *field = value;
  return absl::OkStatus();
}

}  // namespace cace
