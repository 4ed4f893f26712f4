// The runtime's weights as views on a model the loader read into a MemoryPool (the bytes the
// policy accounts): no second copy. What the CPU kernels cannot read as stored was converted by
// the loader into the same allocation, as CpuWeightType asks.
#ifndef CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_
#define CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// The type the CPU backend stores a tensor in (LoadOptions::store_as): matrices of a type its
// products read directly (F32, F16, BF16, Q8_0, Q4_K, Q6_K) as they are, other matrices (Q4_0,
// Q4_1, F64, ...) and every norm and bias as F32.
DType CpuWeightType(const ExpectedTensor& tensor, DType file_dtype);

// Views into `model` in `pool` (host or device: ModelWeights::memory says which), bound by the
// table's roles; rope style from the format (llama.cpp stores Llama's q and k rows permuted so
// that rotary pairs are adjacent; Qwen2's are not). The views follow the allocation's address at
// this call: while a backend uses them, the pool must not move (Compact) or free that allocation.
// InvalidArgument when a tensor is stored in a type no backend reads (norms must be F32).
absl::StatusOr<std::shared_ptr<ModelWeights>> WeightsFromPool(const LoadedModel& model, const MemoryPool& pool);

// Re-points every view of `weights` (made by WeightsFromPool from `model`) at the allocation's
// address now: after the pool's Compact moved it, before the next forward pass.
absl::Status RebindWeights(const LoadedModel& model, const MemoryPool& pool, ModelWeights& weights);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_
