// Builds ModelWeights from model files: a Hugging Face directory (config.json + model.safetensors)
// or a GGUF file, naming tensors by role in each convention. Matrices of a type the kernels read
// directly stay in the file's mapping; other types (Q4_0, Q4_1, Q6_K, F64, ...) and all norms and
// biases are widened to F32 at load.
#ifndef CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_
#define CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"
#include "lib/runtime/model_weights.h"

namespace cace {

struct WeightLoadOptions {
  // Widen every matrix to F32 at load (reference checks, benchmarks of the F32 path).
  bool all_f32 = false;
};

// `dir` holds config.json and model.safetensors (one shard).
absl::StatusOr<std::shared_ptr<ModelWeights>> LoadSafetensorsModel(const std::string& dir,
                                                                   WeightLoadOptions options = {});

// A GGUF file of architecture llama or qwen2. llama.cpp stores Llama's q and k rows permuted so
// that rotary pairs are adjacent; Qwen2's are not permuted (rotate-half pairs).
absl::StatusOr<std::shared_ptr<ModelWeights>> LoadGgufModel(const std::string& path, WeightLoadOptions options = {});

// Views into a model that ModelLoader copied into a host MemoryPool (the bytes the policy
// accounts). The views follow the allocation's address at this call: while a backend uses them,
// the pool must not move that allocation (Compact) or free it.
absl::StatusOr<std::shared_ptr<ModelWeights>> WeightsFromPool(const LoadedModel& model, const MemoryPool& pool,
                                                              WeightLoadOptions options = {});

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_WEIGHTS_LOADER_H_
