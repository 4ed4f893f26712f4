#include "cace/device.h"

namespace cace {

bool BuiltWithCuda() { return false; }

absl::StatusOr<std::vector<DeviceInfo>> ListCudaDevices() {
  return absl::FailedPreconditionError("cace was built without CUDA");
}

}  // namespace cace
