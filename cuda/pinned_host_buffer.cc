#include "cuda/pinned_host_buffer.h"

#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"

namespace cace {
namespace {

class PinnedHostBuffer final : public HostBuffer {
 public:
  PinnedHostBuffer(std::byte* data, std::uint64_t size) : data_(data), size_(size) {}
  ~PinnedHostBuffer() override { cudaFreeHost(data_); }
  std::byte* data() override { return data_; }
  const std::byte* data() const override { return data_; }
  std::uint64_t size() const override { return size_; }

 private:
  std::byte* const data_;
  const std::uint64_t size_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HostBuffer>> AllocatePinnedHostBuffer(std::uint64_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("a pinned host buffer of 0 bytes");
  void* data = nullptr;
  if (cudaError_t e = cudaHostAlloc(&data, bytes, cudaHostAllocDefault); e != cudaSuccess) {
    return absl::ResourceExhaustedError(
        absl::StrCat("pinned host buffer: cudaHostAlloc of ", bytes, " bytes: ", cudaGetErrorString(e)));
  }
  return std::unique_ptr<HostBuffer>(new PinnedHostBuffer(static_cast<std::byte*>(data), bytes));
}

}  // namespace cace
