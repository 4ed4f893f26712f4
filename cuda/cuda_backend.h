// The CUDA backend of the transformer runtime: weights and KV caches in the device pool (the
// loader stores matrices as BF16 there, CudaWeightType), cuBLAS GEMMs (BF16 in, F32 accumulate
// and out), own kernels for the rest on one stream. No CUDA type appears here; a build without
// CUDA links cuda/stub/, whose CreateCudaBackend answers "built without CUDA".
#ifndef CACE_CUDA_CUDA_BACKEND_H_
#define CACE_CUDA_CUDA_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/loader/tensor_names.h"
#include "lib/runtime/backend.h"
#include "lib/runtime/model_weights.h"

namespace cace {

struct CudaBackendOptions {
  int device = 0;
  std::string kv_owner = "kv:cuda";  // pool tag of the KV caches
};

// The type the CUDA backend stores a tensor in (LoadOptions::store_as): matrices BF16 (what its
// GEMMs read), norms and biases F32.
inline DType CudaWeightType(const ExpectedTensor& tensor, DType /*file_dtype*/) {
  return tensor.is_matrix ? DType::kBF16 : DType::kF32;
}

// `weights` are views on a device pool (WeightsFromPool) stored as CudaWeightType says; they are
// used in place, not copied. FailedPrecondition in a build without CUDA; Unavailable when no
// device can be used; InvalidArgument for host weights or matrices of another type.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(std::shared_ptr<const ModelWeights> weights,
                                                           CudaBackendOptions options = {});

}  // namespace cace

#endif  // CACE_CUDA_CUDA_BACKEND_H_
