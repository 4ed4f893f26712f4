// A cost model measured on this machine (cace_calibrate) instead of derived from an accelerator's
// data sheet: per model, the seconds a cold load from disk took, and linear fits of a prefill's
// and a decode step's seconds on the CPU backend. The simulator reads it to predict a real run
// (cace_real_replay prints both side by side).
#ifndef CACE_LIB_SIM_CALIBRATED_COST_MODEL_H_
#define CACE_LIB_SIM_CALIBRATED_COST_MODEL_H_

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sim/cost_model.h"

namespace cace {

// What was measured for one model file.
struct MeasuredModelCosts {
  std::string model;              // the name the fleet and the trace use
  std::uint64_t weight_bytes = 0;  // the pool allocation a load takes (measured)
  // Load with the file's pages dropped from the page cache (what the simulator charges), and the
  // same while the CPU backend decodes on another thread (shown, not charged: charging it
  // predicted 2.5-3.6x the measured latencies, README "The replay, for real").
  Seconds cold_load_seconds = 0;
  Seconds busy_cold_load_seconds = 0;
  Seconds warm_load_seconds = 0;   // load with the file in the page cache (host memory)
  // Reload from the Engine's host cache (HostModelCopy::Load: one copy of the pool allocation
  // from host memory, no file read): what a reload of an evicted model the cache holds costs.
  Seconds host_cache_load_seconds = 0;
  // prefill(P tokens) = prefill_base + prefill_per_token x P   (one sequence's forward pass)
  Seconds prefill_base = 0;
  Seconds prefill_per_token = 0;
  // decode step(B sequences, K tokens in their KV caches) = decode_base + decode_per_sequence x B
  //                                                       + decode_per_kv_token x K
  Seconds decode_base = 0;
  Seconds decode_per_sequence = 0;
  Seconds decode_per_kv_token = 0;
};

// The cost-model file: CSV, header `model,weight_bytes,cold_load_s,busy_cold_load_s,warm_load_s,host_cache_load_s,
// prefill_base_s,prefill_per_token_s,decode_base_s,decode_per_sequence_s,decode_per_kv_token_s`; '#' starts a
// comment line (cace_calibrate writes the machine and its load there). Errors name the file,
// line and column.
absl::StatusOr<std::vector<MeasuredModelCosts>> ReadMeasuredCosts(const std::string& path);
std::string FormatMeasuredCosts(std::span<const MeasuredModelCosts> costs, const std::string& comment);

class CalibratedCostModel final : public CostModel {
 public:
  // NotFound when a model of `fleet` has no measurement (the simulator must not guess one).
  static absl::StatusOr<CalibratedCostModel> ForFleet(std::span<const MeasuredModelCosts> costs,
                                                      std::span<const FleetModel> fleet);

  // A miss loads cold from disk; a reload from the host cache costs the host-cache reload measured.
  Seconds LoadSeconds(const FleetModel& model) const override;
  Seconds LoadSeconds(const FleetModel& model, LoadTier tier) const override;
  Seconds PrefillSeconds(const FleetModel& model, std::uint64_t prompt_tokens) const override;
  Seconds DecodeStepSeconds(const FleetModel& model, std::uint64_t batch_kv_tokens) const override;
  Seconds DecodeStepSeconds(const FleetModel& model, std::uint64_t sequences,
                            std::uint64_t batch_kv_tokens) const override;

 private:
  explicit CalibratedCostModel(std::unordered_map<std::string, MeasuredModelCosts> by_name);
  const MeasuredModelCosts& Of(const FleetModel& model) const;

  std::unordered_map<std::string, MeasuredModelCosts> by_name_;
};

}  // namespace cace

#endif  // CACE_LIB_SIM_CALIBRATED_COST_MODEL_H_
