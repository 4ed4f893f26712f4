// Which accelerators this build of cace can see. The same declarations exist with or without the
// CUDA backend: a build without it answers "built without CUDA".
#ifndef CACE_DEVICE_H_
#define CACE_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;
  int compute_capability = 0;  // major * 10 + minor, e.g. 90 for Hopper
};

// True when this library was compiled with the CUDA backend.
bool BuiltWithCuda();

// The CUDA devices visible to this process. FailedPrecondition when built without CUDA; Unavailable
// when built with it but no device or driver is present.
absl::StatusOr<std::vector<DeviceInfo>> ListCudaDevices();

}  // namespace cace

#endif  // CACE_DEVICE_H_
