// Page-locked host memory from the CUDA runtime (cudaHostAlloc), for the engine's host cache on
// the CUDA backend: the copy engine moves pinned bytes to and from the device at the link's full
// speed, without the pageable path's staging. No CUDA type appears here.
#ifndef CACE_CUDA_PINNED_HOST_BUFFER_H_
#define CACE_CUDA_PINNED_HOST_BUFFER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "lib/runtime/host_buffer.h"

namespace cace {

// `bytes` (> 0) of pinned host memory, freed with cudaFreeHost. FailedPrecondition in a build
// without CUDA; ResourceExhausted when the runtime refuses (the system's locked-memory limit).
absl::StatusOr<std::unique_ptr<HostBuffer>> AllocatePinnedHostBuffer(std::uint64_t bytes);

}  // namespace cace

#endif  // CACE_CUDA_PINNED_HOST_BUFFER_H_
