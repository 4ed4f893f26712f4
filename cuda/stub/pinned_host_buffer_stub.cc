// Pinned host memory in a build without CUDA: same symbol, "built without CUDA".
#include "cuda/pinned_host_buffer.h"

namespace cace {

absl::StatusOr<std::unique_ptr<HostBuffer>> AllocatePinnedHostBuffer(std::uint64_t) {
  return absl::FailedPreconditionError("cace was built without CUDA: no pinned host memory");
}

}  // namespace cace
