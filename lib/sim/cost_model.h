// The cost model of a named accelerator that the simulator charges time by.
#ifndef CACE_LIB_SIM_COST_MODEL_H_
#define CACE_LIB_SIM_COST_MODEL_H_

#include <cstdint>

#include "lib/workload/fleet.h"
#include "cace/types.h"
#include "lib/engine/host_cache.h"

namespace cace {

struct CostModelOptions {
  // Fraction of dense bf16 peak a prefill reaches (fleet.md: a realistic 40-60 %).
  double prefill_efficiency = 0.5;
  // Fixed cost of a load beyond moving bytes: starting the runner, allocating, warming up.
  Seconds load_start_seconds = 1.0;
  // Fraction of peak memory bandwidth a decode step reaches.
  double decode_bandwidth_efficiency = 0.8;
  // The host-memory cache of evicted weights: pinned memory crosses the link at its speed
  // (L40S: PCIe Gen4, 25 GB/s), pageable memory at about half (fleet.md). A reload from the cache
  // pays the same start cost as one from the disk (allocating and warming up again).
  bool host_cache_pinned = true;
};

class CostModel {
 public:
  CostModel(Accelerator accelerator, CostModelOptions options = {})
      : accelerator_(std::move(accelerator)), options_(options) {}
  // Virtual so that a cost model measured on a machine (lib/sim/calibrated_cost_model.h) can stand
  // in for the named accelerator's.
  virtual ~CostModel() = default;

  const Accelerator& accelerator() const { return accelerator_; }
  const CostModelOptions& options() const { return options_; }

  // Weight bytes over the bandwidth of where they come from, plus the fixed start cost: the
  // model's own source (a miss), or the host cache of evicted weights.
  virtual Seconds LoadSeconds(const FleetModel& model) const;
  virtual Seconds LoadSeconds(const FleetModel& model, LoadTier tier) const;
  // The bytes/s of a load from the host cache.
  double HostCacheBandwidth() const;
  // Compute-bound: 2 x params FLOP per prompt token at prefill_efficiency of peak.
  virtual Seconds PrefillSeconds(const FleetModel& model, std::uint64_t prompt_tokens) const;
  // Bandwidth-bound: every weight byte and the KV cache of the batch read once per step.
  virtual Seconds DecodeStepSeconds(const FleetModel& model, std::uint64_t batch_kv_tokens) const;
  // The same for a batch of `sequences`: an accelerator's step is bound by the bytes it reads, not
  // by the rows it multiplies, so the named accelerator's ignores the count; a measured CPU's
  // does not.
  virtual Seconds DecodeStepSeconds(const FleetModel& model, std::uint64_t sequences,
                                    std::uint64_t batch_kv_tokens) const {
    (void)sequences;
    return DecodeStepSeconds(model, batch_kv_tokens);
  }

 private:
  Accelerator accelerator_;
  CostModelOptions options_;
};

}  // namespace cace

#endif  // CACE_LIB_SIM_COST_MODEL_H_
