#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"
#include "cace/device.h"

namespace cace {

bool BuiltWithCuda() { return true; }

absl::StatusOr<std::vector<DeviceInfo>> ListCudaDevices() {
  int count = 0;
  if (cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
    return absl::UnavailableError(absl::StrCat("no CUDA device: ", cudaGetErrorString(err)));
  }
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaError_t err = cudaGetDeviceProperties(&prop, i); err != cudaSuccess) {
      return absl::InternalError(absl::StrCat("cudaGetDeviceProperties(", i, "): ", cudaGetErrorString(err)));
    }
    DeviceInfo info;
    info.ordinal = i;
    info.name = prop.name;
    info.total_bytes = prop.totalGlobalMem;
    info.compute_capability = prop.major * 10 + prop.minor;
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      info.free_bytes = free_bytes;
    }
    devices.push_back(std::move(info));
  }
  return devices;
}

}  // namespace cace
