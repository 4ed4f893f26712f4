// The bookkeeping of a sub-allocated arena, shared by the host and the device arenas: live
// allocations by id, free blocks by offset (coalesced on free), best-fit allocation, statistics
// and the compaction plan. It never touches the arena's bytes; arenas differ only in how they
// reserve and move them. Not thread-safe: SubAllocatedArena locks around it.
#ifndef CACE_LIB_POOL_ARENA_BOOK_H_
#define CACE_LIB_POOL_ARENA_BOOK_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cace/memory_pool.h"

namespace cace {

class ArenaBook {
 public:
  // `name` starts error messages ("host arena", "cuda:0 arena").
  ArenaBook(std::string name, std::uint64_t capacity);

  absl::StatusOr<Allocation> Allocate(std::uint64_t bytes, std::uint64_t alignment, std::string_view owner);
  absl::Status Free(AllocationId id);
  absl::StatusOr<Allocation> Lookup(AllocationId id) const;
  std::vector<Allocation> Allocations() const;  // by offset
  PoolStats Stats() const;
  bool CanFit(std::uint64_t bytes, std::uint64_t alignment) const;
  bool CanFitAfterCompaction(std::uint64_t bytes, std::uint64_t alignment) const;

  // Where each live allocation goes when all are slid down in offset order, keeping alignment.
  // Only allocations that move are listed, in ascending offset order: performing the moves in
  // that order never overwrites bytes of an allocation not yet moved.
  std::vector<Relocation> PlanCompaction() const;
  // Records that the bytes of `id` now live at `new_offset` (after the arena moved them) and
  // rebuilds the free blocks from the live allocations.
  void Relocate(AllocationId id, std::uint64_t new_offset);

  // Splits a move of `bytes` from `from` down to `to` (to < from) into pieces whose source and
  // destination do not overlap, in the order to copy them, for copy engines that cannot move
  // overlapping ranges (cudaMemcpy).
  struct Piece {
    std::uint64_t from;
    std::uint64_t to;
    std::uint64_t bytes;
  };
  static std::vector<Piece> NonOverlappingPieces(std::uint64_t from, std::uint64_t to, std::uint64_t bytes);

  std::uint64_t capacity() const { return capacity_; }
  const std::string& name() const { return name_; }

 private:
  struct Live {
    std::uint64_t offset;
    std::uint64_t bytes;
    std::uint64_t alignment;
    std::string owner;
  };
  Allocation ToAllocation(AllocationId id, const Live& live) const;
  void InsertFree(std::uint64_t offset, std::uint64_t bytes);
  void RebuildFree();

  std::string name_;
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  AllocationId next_id_ = 1;
  absl::flat_hash_map<AllocationId, Live> live_;
  std::map<std::uint64_t, std::uint64_t> free_;  // offset -> bytes; never two adjacent blocks
};

}  // namespace cace

#endif  // CACE_LIB_POOL_ARENA_BOOK_H_
