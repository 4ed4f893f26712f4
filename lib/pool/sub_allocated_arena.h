// A MemoryPool over one reservation of bytes: ArenaBook does the bookkeeping under a mutex; a
// subclass says where the bytes are and how to copy them (host memory, CUDA device memory).
#ifndef CACE_LIB_POOL_SUB_ALLOCATED_ARENA_H_
#define CACE_LIB_POOL_SUB_ALLOCATED_ARENA_H_

#include <cstddef>
#include <mutex>

#include "cace/memory_pool.h"
#include "lib/pool/arena_book.h"

namespace cace {

class SubAllocatedArena : public MemoryPool {
 public:
  absl::StatusOr<Allocation> Allocate(std::uint64_t bytes, std::uint64_t alignment, std::string_view owner) override;
  absl::Status Free(AllocationId id) override;
  absl::StatusOr<Allocation> Lookup(AllocationId id) const override;
  std::vector<Allocation> Allocations() const override;
  PoolStats Stats() const override;
  bool CanFit(std::uint64_t bytes, std::uint64_t alignment) const override;
  bool CanFitAfterCompaction(std::uint64_t bytes, std::uint64_t alignment) const override;
  absl::Status Compact(const RelocationCallback& on_move) override;
  absl::StatusOr<void*> Address(AllocationId id) const override;
  absl::Status Write(AllocationId id, std::uint64_t offset_in_allocation, const void* src,
                     std::uint64_t bytes) override;
  absl::Status Read(AllocationId id, std::uint64_t offset_in_allocation, void* dst,
                    std::uint64_t bytes) const override;

 protected:
  SubAllocatedArena(std::string name, std::byte* base, std::uint64_t capacity);

  // Moves `bytes` from arena offset `from` down to `to` (to < from; the ranges may overlap).
  virtual absl::Status MoveDown(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) = 0;
  virtual absl::Status CopyIn(std::uint64_t offset, const void* src, std::uint64_t bytes) = 0;
  virtual absl::Status CopyOut(std::uint64_t offset, void* dst, std::uint64_t bytes) const = 0;

  std::byte* base() const { return base_; }

 private:
  absl::StatusOr<Allocation> CheckRange(AllocationId id, std::uint64_t offset_in_allocation,
                                        std::uint64_t bytes) const;  // mu_ held

  std::byte* const base_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks even where Abseil is
  // not built for it (Debian's), so the engine's threads can be checked.
  mutable std::mutex mu_;
  ArenaBook book_;  // guarded by mu_
};

}  // namespace cace

#endif  // CACE_LIB_POOL_SUB_ALLOCATED_ARENA_H_
