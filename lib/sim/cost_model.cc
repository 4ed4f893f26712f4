#include "lib/sim/cost_model.h"

namespace cace {

Seconds CostModel::LoadSeconds(const FleetModel& model) const {
  return options_.load_start_seconds +
         static_cast<double>(model.weight_bytes) / SourceBandwidth(model.source, accelerator_);
}

double CostModel::HostCacheBandwidth() const {
  return SourceBandwidth(options_.host_cache_pinned ? WeightSource::kHostPinned : WeightSource::kHostPageable,
                         accelerator_);
}

Seconds CostModel::LoadSeconds(const FleetModel& model, LoadTier tier) const {
  if (tier == LoadTier::kDisk) return LoadSeconds(model);
  return options_.load_start_seconds + static_cast<double>(model.weight_bytes) / HostCacheBandwidth();
}

Seconds CostModel::PrefillSeconds(const FleetModel& model, std::uint64_t prompt_tokens) const {
  return 2.0 * model.params * static_cast<double>(prompt_tokens) /
         (accelerator_.bf16_flops * options_.prefill_efficiency);
}

Seconds CostModel::DecodeStepSeconds(const FleetModel& model, std::uint64_t batch_kv_tokens) const {
  const double bytes = static_cast<double>(model.weight_bytes) +
                       static_cast<double>(batch_kv_tokens) * static_cast<double>(model.kv_bytes_per_token);
  return bytes / (accelerator_.memory_bandwidth * options_.decode_bandwidth_efficiency);
}

}  // namespace cace
