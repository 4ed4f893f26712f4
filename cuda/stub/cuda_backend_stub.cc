#include "cuda/cuda_backend.h"

namespace cace {

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(std::shared_ptr<const ModelWeights>, CudaBackendOptions) {
  return absl::FailedPreconditionError("cace was built without CUDA: no CUDA backend");
}

}  // namespace cace
