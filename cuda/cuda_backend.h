// The CUDA backend of the transformer runtime: weights uploaded as BF16, cuBLAS GEMMs (BF16 in,
// F32 accumulate and out), own kernels for the rest on one stream. No CUDA type appears here; a
// build without CUDA links cuda/stub/, whose CreateCudaBackend answers "built without CUDA".
#ifndef CACE_CUDA_CUDA_BACKEND_H_
#define CACE_CUDA_CUDA_BACKEND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "lib/runtime/backend.h"
#include "lib/runtime/model_weights.h"

namespace cace {

struct CudaBackendOptions {
  int device = 0;
};

// FailedPrecondition in a build without CUDA; Unavailable when no device can be used; the weights
// are copied to the device (host views may be released afterwards).
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(std::shared_ptr<const ModelWeights> weights,
                                                           CudaBackendOptions options = {});

}  // namespace cace

#endif  // CACE_CUDA_CUDA_BACKEND_H_
