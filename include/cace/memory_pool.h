// The memory the eviction policy governs, accounted in bytes. One interface, two arenas: a host
// arena (aligned memory, huge pages where the system allows) and a device arena (one cudaMalloc
// reservation). Both sub-allocate model weights and KV cache blocks from one reservation, free
// with coalescing, report fragmentation, and can compact: move live allocations down and tell
// their owners, so a model can be admitted when the free bytes suffice but no single block does.
//
// Allocations are named by a stable id that survives compaction; offsets are relative to the
// start of the arena. All methods are thread-safe.
#ifndef CACE_MEMORY_POOL_H_
#define CACE_MEMORY_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cace {

using AllocationId = std::uint64_t;

struct Allocation {
  AllocationId id = 0;
  std::uint64_t offset = 0;  // from the start of the arena; aligned as requested
  std::uint64_t bytes = 0;   // as requested
  std::string owner;         // the tag given to Allocate, e.g. a model id or "kv:<model>"
};

struct PoolStats {
  std::uint64_t capacity = 0;
  std::uint64_t used = 0;  // bytes of live allocations, alignment padding included
  std::uint64_t free = 0;  // capacity - used
  std::uint64_t largest_free_block = 0;
  // 1 - largest_free_block / free: 0 when all free bytes are one block (or none are free),
  // towards 1 when they are scattered in many small holes.
  double fragmentation = 0.0;
  std::uint64_t allocation_count = 0;
};

// One allocation moved by Compact. The bytes have already been moved when the callback runs.
struct Relocation {
  AllocationId id = 0;
  std::string owner;
  std::uint64_t old_offset = 0;
  std::uint64_t new_offset = 0;
  std::uint64_t bytes = 0;
};
using RelocationCallback = std::function<void(const Relocation&)>;

enum class MemoryKind : std::uint8_t { kHost, kDevice };

class MemoryPool {
 public:
  static constexpr std::uint64_t kDefaultAlignment = 256;

  virtual ~MemoryPool() = default;

  virtual MemoryKind kind() const = 0;

  // A block of `bytes` (> 0) at an offset that is a multiple of `alignment` (a power of two).
  // ResourceExhausted when no free block is large enough: the message gives the bytes asked,
  // free and largest free block, and says whether compaction would make room. Nothing changes on
  // failure.
  virtual absl::StatusOr<Allocation> Allocate(std::uint64_t bytes, std::uint64_t alignment,
                                              std::string_view owner) = 0;
  // NotFound for an unknown (or already freed) id.
  virtual absl::Status Free(AllocationId id) = 0;
  virtual absl::StatusOr<Allocation> Lookup(AllocationId id) const = 0;
  virtual std::vector<Allocation> Allocations() const = 0;  // by offset

  virtual PoolStats Stats() const = 0;
  // Whether Allocate(bytes, alignment) would succeed now.
  virtual bool CanFit(std::uint64_t bytes, std::uint64_t alignment = kDefaultAlignment) const = 0;
  // Whether it would succeed after Compact (the free bytes suffice).
  virtual bool CanFitAfterCompaction(std::uint64_t bytes,
                                     std::uint64_t alignment = kDefaultAlignment) const = 0;

  // Slides every live allocation down towards offset 0 (keeping its alignment and order) so the
  // free bytes become one block at the top; calls `on_move` once per allocation that moved,
  // after its bytes were moved. Owners must not use the old addresses while Compact runs.
  virtual absl::Status Compact(const RelocationCallback& on_move) = 0;

  // Address of the first byte of the allocation: a host pointer for kHost, a device pointer for
  // kDevice. Valid until the allocation is freed or moved by Compact.
  virtual absl::StatusOr<void*> Address(AllocationId id) const = 0;

  // Copies host bytes into an allocation at `offset_in_allocation` (bounds checked).
  virtual absl::Status Write(AllocationId id, std::uint64_t offset_in_allocation,
                             const void* src, std::uint64_t bytes) = 0;
  // Copies bytes out of an allocation into host memory (bounds checked).
  virtual absl::Status Read(AllocationId id, std::uint64_t offset_in_allocation, void* dst,
                            std::uint64_t bytes) const = 0;
};

struct HostArenaOptions {
  // Try MAP_HUGETLB first, then madvise(MADV_HUGEPAGE) on an ordinary mapping.
  bool try_huge_pages = true;
};

// Reserves `capacity` bytes of host memory (rounded up to 2 MiB). ResourceExhausted when the
// system refuses.
absl::StatusOr<std::unique_ptr<MemoryPool>> CreateHostArena(std::uint64_t capacity,
                                                            HostArenaOptions options = {});

// Reserves `capacity` bytes on CUDA device `device` with one cudaMalloc. FailedPrecondition in a
// build without CUDA, Unavailable when no device is present.
absl::StatusOr<std::unique_ptr<MemoryPool>> CreateDeviceArena(int device, std::uint64_t capacity);

}  // namespace cace

#endif  // CACE_MEMORY_POOL_H_
