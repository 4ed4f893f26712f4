// Host memory outside every pool, for a model's weights kept while it is not resident (the
// engine's host cache). One interface, two kinds: plain aligned host memory (the CPU backend) and
// page-locked memory from the CUDA runtime (cuda/pinned_host_buffer.h), which the copy engine
// reads and writes without staging. No CUDA type appears here.
#ifndef CACE_LIB_RUNTIME_HOST_BUFFER_H_
#define CACE_LIB_RUNTIME_HOST_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"

namespace cace {

class HostBuffer {
 public:
  virtual ~HostBuffer() = default;
  virtual std::byte* data() = 0;
  virtual const std::byte* data() const = 0;
  virtual std::uint64_t size() const = 0;
};

// Makes a buffer of exactly `bytes` (> 0); ResourceExhausted when the system refuses.
using HostBufferAllocator = std::function<absl::StatusOr<std::unique_ptr<HostBuffer>>(std::uint64_t bytes)>;

// Ordinary host memory, 4 KiB aligned (pages are touched only when written).
absl::StatusOr<std::unique_ptr<HostBuffer>> AllocatePlainHostBuffer(std::uint64_t bytes);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_HOST_BUFFER_H_
