// Streams weights from host memory (typically a file mapping: pageable) to device memory through
// two pinned staging buffers on two CUDA streams: while the copy engine moves one buffer to the
// device, the CPU fills the other from the source (double buffering). No CUDA type appears here.
#ifndef CACE_CUDA_WEIGHT_STREAMER_H_
#define CACE_CUDA_WEIGHT_STREAMER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace cace {

class WeightStreamer {
 public:
  // Allocates two pinned buffers of `chunk_bytes` and two streams on `device`. FailedPrecondition
  // in a build without CUDA.
  static absl::StatusOr<std::unique_ptr<WeightStreamer>> Create(int device, std::uint64_t chunk_bytes = 32 << 20);
  ~WeightStreamer();
  WeightStreamer(const WeightStreamer&) = delete;
  WeightStreamer& operator=(const WeightStreamer&) = delete;

  // Copies `bytes` from host `src` to device `dst` and returns when they have arrived.
  absl::Status Copy(const void* src, void* device_dst, std::uint64_t bytes);

 private:
  struct Impl;
  explicit WeightStreamer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cace

#endif  // CACE_CUDA_WEIGHT_STREAMER_H_
