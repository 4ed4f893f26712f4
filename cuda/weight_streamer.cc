#include "cuda/weight_streamer.h"

#include <cuda_runtime_api.h>

#include <cstring>

#include "fmt/format.h"

namespace cace {
namespace {

absl::Status CudaError(cudaError_t err, const char* what) {
  return absl::InternalError(fmt::format("weight streamer: {}: {}", what, cudaGetErrorString(err)));
}

}  // namespace

struct WeightStreamer::Impl {
  int device = 0;
  std::uint64_t chunk = 0;
  void* pinned[2] = {nullptr, nullptr};
  cudaStream_t streams[2] = {nullptr, nullptr};
  cudaEvent_t done[2] = {nullptr, nullptr};

  ~Impl() {
    for (int k = 0; k < 2; ++k) {
      if (streams[k] != nullptr) cudaStreamSynchronize(streams[k]);
      if (done[k] != nullptr) cudaEventDestroy(done[k]);
      if (streams[k] != nullptr) cudaStreamDestroy(streams[k]);
      if (pinned[k] != nullptr) cudaFreeHost(pinned[k]);
    }
  }
};

WeightStreamer::WeightStreamer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WeightStreamer::~WeightStreamer() = default;

absl::StatusOr<std::unique_ptr<WeightStreamer>> WeightStreamer::Create(int device, std::uint64_t chunk_bytes) {
  if (chunk_bytes == 0) return absl::InvalidArgumentError("weight streamer: chunk size must be positive");
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->chunk = chunk_bytes;
  if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) return CudaError(e, "cudaSetDevice");
  for (int k = 0; k < 2; ++k) {
    if (cudaError_t e = cudaHostAlloc(&impl->pinned[k], chunk_bytes, cudaHostAllocDefault); e != cudaSuccess) {
      return CudaError(e, "cudaHostAlloc");
    }
    if (cudaError_t e = cudaStreamCreateWithFlags(&impl->streams[k], cudaStreamNonBlocking); e != cudaSuccess) {
      return CudaError(e, "cudaStreamCreate");
    }
    if (cudaError_t e = cudaEventCreateWithFlags(&impl->done[k], cudaEventDisableTiming); e != cudaSuccess) {
      return CudaError(e, "cudaEventCreate");
    }
  }
  return std::unique_ptr<WeightStreamer>(new WeightStreamer(std::move(impl)));
}

absl::Status WeightStreamer::Copy(const void* src, void* device_dst, std::uint64_t bytes) {
  Impl& s = *impl_;
  if (cudaError_t e = cudaSetDevice(s.device); e != cudaSuccess) return CudaError(e, "cudaSetDevice");
  bool pending[2] = {false, false};
  std::uint64_t chunk_index = 0;
  for (std::uint64_t done = 0; done < bytes; done += s.chunk, ++chunk_index) {
    const int k = static_cast<int>(chunk_index % 2);
    const std::uint64_t n = std::min(s.chunk, bytes - done);
    // Buffer k is free again once its previous copy has finished; meanwhile the other buffer's
    // copy runs on the other stream.
    if (pending[k]) {
      if (cudaError_t e = cudaEventSynchronize(s.done[k]); e != cudaSuccess) return CudaError(e, "cudaEventSynchronize");
    }
    std::memcpy(s.pinned[k], static_cast<const char*>(src) + done, n);
    if (cudaError_t e = cudaMemcpyAsync(static_cast<char*>(device_dst) + done, s.pinned[k], n, cudaMemcpyHostToDevice,
                                        s.streams[k]);
        e != cudaSuccess) {
      return CudaError(e, "cudaMemcpyAsync");
    }
    if (cudaError_t e = cudaEventRecord(s.done[k], s.streams[k]); e != cudaSuccess) return CudaError(e, "cudaEventRecord");
    pending[k] = true;
  }
  for (int k = 0; k < 2; ++k) {
    if (cudaError_t e = cudaStreamSynchronize(s.streams[k]); e != cudaSuccess) return CudaError(e, "cudaStreamSynchronize");
  }
  return absl::OkStatus();
}

}  // namespace cace
