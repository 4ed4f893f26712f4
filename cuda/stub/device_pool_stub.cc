// The device arena and weight streamer in a build without CUDA: same symbols, "built without CUDA".
#include "cace/memory_pool.h"
#include "cuda/weight_streamer.h"

namespace cace {

struct WeightStreamer::Impl {};

WeightStreamer::WeightStreamer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WeightStreamer::~WeightStreamer() = default;

absl::StatusOr<std::unique_ptr<WeightStreamer>> WeightStreamer::Create(int, std::uint64_t) {
  return absl::FailedPreconditionError("cace was built without CUDA");
}

absl::Status WeightStreamer::Copy(const void*, void*, std::uint64_t) {
  return absl::FailedPreconditionError("cace was built without CUDA");
}

absl::StatusOr<std::unique_ptr<MemoryPool>> CreateDeviceArena(int, std::uint64_t) {
  return absl::FailedPreconditionError("cace was built without CUDA");
}

}  // namespace cace
