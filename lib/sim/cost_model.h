// The cost model of a named accelerator that the simulator charges time by.
#ifndef CACE_LIB_SIM_COST_MODEL_H_
#define CACE_LIB_SIM_COST_MODEL_H_

#include <cstdint>

#include "cace/fleet.h"
#include "cace/types.h"

namespace cace {

struct CostModelOptions {
  // Fraction of dense bf16 peak a prefill reaches (fleet.md: a realistic 40-60 %).
  double prefill_efficiency = 0.5;
  // Fixed cost of a load beyond moving bytes: starting the runner, allocating, warming up.
  Seconds load_start_seconds = 1.0;
  // Fraction of peak memory bandwidth a decode step reaches.
  double decode_bandwidth_efficiency = 0.8;
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

  // Weight bytes over the bandwidth of the tier they come from, plus the fixed start cost.
  virtual Seconds LoadSeconds(const FleetModel& model) const;
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
