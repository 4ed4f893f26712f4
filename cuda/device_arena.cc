#include "cuda/device_arena.h"

#include <cuda_runtime_api.h>

#include "fmt/format.h"

namespace cace {
namespace {

absl::Status CudaError(cudaError_t err, int device, const char* what) {
  return absl::InternalError(fmt::format("cuda:{} arena: {}: {}", device, what, cudaGetErrorString(err)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceArena>> DeviceArena::Create(int device, std::uint64_t capacity) {
  if (capacity == 0) return absl::InvalidArgumentError("device arena: capacity must be positive");
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || device < 0 || device >= count) {
    return absl::UnavailableError(fmt::format("device arena: no CUDA device {} ({} found{})", device, count,
                                              e != cudaSuccess ? std::string(", ") + cudaGetErrorString(e) : ""));
  }
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) return CudaError(e, device, "cudaSetDevice");
  void* base = nullptr;
  if (cudaError_t e = cudaMalloc(&base, capacity); e != cudaSuccess) {
    return absl::ResourceExhaustedError(
        fmt::format("cuda:{} arena: cudaMalloc of {} bytes: {}", device, capacity, cudaGetErrorString(e)));
  }
  absl::StatusOr<std::unique_ptr<WeightStreamer>> streamer = WeightStreamer::Create(device);
  if (!streamer.ok()) {
    cudaFree(base);
    return streamer.status();
  }
  return std::unique_ptr<DeviceArena>(
      new DeviceArena(device, static_cast<std::byte*>(base), capacity, std::move(*streamer)));
}

DeviceArena::DeviceArena(int device, std::byte* base, std::uint64_t capacity, std::unique_ptr<WeightStreamer> streamer)
    : SubAllocatedArena(fmt::format("cuda:{} arena", device), base, capacity),
      device_(device),
      streamer_(std::move(streamer)) {}

DeviceArena::~DeviceArena() {
  streamer_.reset();
  cudaSetDevice(device_);
  cudaFree(base());
}

absl::Status DeviceArena::MoveDown(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) {
  if (cudaError_t e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, device_, "cudaSetDevice");
  // cudaMemcpy does not promise overlapping ranges: copy in pieces no longer than the distance.
  for (const ArenaBook::Piece& p : ArenaBook::NonOverlappingPieces(from, to, bytes)) {
    if (cudaError_t e = cudaMemcpy(base() + p.to, base() + p.from, p.bytes, cudaMemcpyDeviceToDevice); e != cudaSuccess) {
      return CudaError(e, device_, "cudaMemcpy (compaction)");
    }
  }
  return absl::OkStatus();
}

absl::Status DeviceArena::CopyIn(std::uint64_t offset, const void* src, std::uint64_t bytes) {
  // Pinned host memory (the engine's host cache) goes to the device in one copy; pageable memory
  // (a file's pages) through the streamer's pinned staging buffers.
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, src) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it, and take the pageable path
  } else if (attributes.type == cudaMemoryTypeHost) {
    if (cudaError_t e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, device_, "cudaSetDevice");
    if (cudaError_t e = cudaMemcpy(base() + offset, src, bytes, cudaMemcpyHostToDevice); e != cudaSuccess) {
      return CudaError(e, device_, "cudaMemcpy (from pinned memory)");
    }
    return absl::OkStatus();
  }
  return streamer_->Copy(src, base() + offset, bytes);
}

absl::Status DeviceArena::CopyOut(std::uint64_t offset, void* dst, std::uint64_t bytes) const {
  if (cudaError_t e = cudaSetDevice(device_); e != cudaSuccess) return CudaError(e, device_, "cudaSetDevice");
  if (cudaError_t e = cudaMemcpy(dst, base() + offset, bytes, cudaMemcpyDeviceToHost); e != cudaSuccess) {
    return CudaError(e, device_, "cudaMemcpy (read)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MemoryPool>> CreateDeviceArena(int device, std::uint64_t capacity) {
  absl::StatusOr<std::unique_ptr<DeviceArena>> arena = DeviceArena::Create(device, capacity);
  if (!arena.ok()) return arena.status();
  return std::unique_ptr<MemoryPool>(std::move(*arena));
}

}  // namespace cace
