// The device arena: one cudaMalloc reservation, sub-allocated by the same bookkeeping as the host
// arena (lib/pool). Writes stream through a WeightStreamer; compaction moves bytes within the
// device with cudaMemcpy in non-overlapping pieces. No CUDA type appears here.
#ifndef CACE_CUDA_DEVICE_ARENA_H_
#define CACE_CUDA_DEVICE_ARENA_H_

#include <memory>

#include "cuda/weight_streamer.h"
#include "lib/pool/sub_allocated_arena.h"

namespace cace {

class DeviceArena final : public SubAllocatedArena {
 public:
  static absl::StatusOr<std::unique_ptr<DeviceArena>> Create(int device, std::uint64_t capacity);
  ~DeviceArena() override;

  MemoryKind kind() const override { return MemoryKind::kDevice; }
  int device() const { return device_; }

 private:
  DeviceArena(int device, std::byte* base, std::uint64_t capacity, std::unique_ptr<WeightStreamer> streamer);
  absl::Status MoveDown(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) override;
  absl::Status CopyIn(std::uint64_t offset, const void* src, std::uint64_t bytes) override;
  absl::Status CopyOut(std::uint64_t offset, void* dst, std::uint64_t bytes) const override;

  int device_;
  std::unique_ptr<WeightStreamer> streamer_;
};

}  // namespace cace

#endif  // CACE_CUDA_DEVICE_ARENA_H_
