#include "lib/pool/sub_allocated_arena.h"

#include "fmt/format.h"

namespace cace {

SubAllocatedArena::SubAllocatedArena(std::string name, std::byte* base, std::uint64_t capacity)
    : base_(base), book_(std::move(name), capacity) {}

absl::StatusOr<Allocation> SubAllocatedArena::Allocate(std::uint64_t bytes, std::uint64_t alignment,
                                                       std::string_view owner) {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Allocate(bytes, alignment, owner);
}

absl::Status SubAllocatedArena::Free(AllocationId id) {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Free(id);
}

absl::StatusOr<Allocation> SubAllocatedArena::Lookup(AllocationId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Lookup(id);
}

std::vector<Allocation> SubAllocatedArena::Allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Allocations();
}

PoolStats SubAllocatedArena::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Stats();
}

bool SubAllocatedArena::CanFit(std::uint64_t bytes, std::uint64_t alignment) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.CanFit(bytes, alignment);
}

bool SubAllocatedArena::CanFitAfterCompaction(std::uint64_t bytes, std::uint64_t alignment) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.CanFitAfterCompaction(bytes, alignment);
}

absl::Status SubAllocatedArena::Compact(const RelocationCallback& on_move) {
  std::vector<Relocation> done;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Relocation& r : book_.PlanCompaction()) {
      status = MoveDown(r.old_offset, r.new_offset, r.bytes);
      if (!status.ok()) break;  // the book still matches the bytes: moves so far are recorded
      book_.Relocate(r.id, r.new_offset);
      done.push_back(r);
    }
  }
  // Owners hear of their moves outside the lock, so they may call back into the pool.
  if (on_move) {
    for (const Relocation& r : done) on_move(r);
  }
  return status;
}

absl::StatusOr<Allocation> SubAllocatedArena::CheckRange(AllocationId id, std::uint64_t offset_in_allocation,
                                                         std::uint64_t bytes) const {
  absl::StatusOr<Allocation> a = book_.Lookup(id);
  if (!a.ok()) return a.status();
  if (offset_in_allocation > a->bytes || bytes > a->bytes - offset_in_allocation) {
    return absl::OutOfRangeError(fmt::format("{}: bytes [{}, +{}) lie outside allocation {} of {} bytes ('{}')",
                                             book_.name(), offset_in_allocation, bytes, id, a->bytes, a->owner));
  }
  return a;
}

absl::StatusOr<void*> SubAllocatedArena::Address(AllocationId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Allocation> a = book_.Lookup(id);
  if (!a.ok()) return a.status();
  return static_cast<void*>(base_ + a->offset);
}

absl::Status SubAllocatedArena::Write(AllocationId id, std::uint64_t offset_in_allocation, const void* src,
                                      std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Allocation> a = CheckRange(id, offset_in_allocation, bytes);
  if (!a.ok()) return a.status();
  return CopyIn(a->offset + offset_in_allocation, src, bytes);
}

absl::Status SubAllocatedArena::Read(AllocationId id, std::uint64_t offset_in_allocation, void* dst,
                                     std::uint64_t bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Allocation> a = CheckRange(id, offset_in_allocation, bytes);
  if (!a.ok()) return a.status();
  return CopyOut(a->offset + offset_in_allocation, dst, bytes);
}

}  // namespace cace
