#include "lib/pool/arena_book.h"

#include <algorithm>

#include "fmt/format.h"

namespace cace {
namespace {

// Rounds up to a power-of-two alignment; false when the result would pass 2^64.
bool AlignUp(std::uint64_t value, std::uint64_t alignment, std::uint64_t& out) {
  if (value > UINT64_MAX - (alignment - 1)) return false;
  out = (value + alignment - 1) & ~(alignment - 1);
  return true;
}

bool FitsIn(std::uint64_t block_offset, std::uint64_t block_bytes, std::uint64_t bytes, std::uint64_t alignment,
            std::uint64_t& aligned) {
  if (!AlignUp(block_offset, alignment, aligned)) return false;
  const std::uint64_t end = block_offset + block_bytes;
  return aligned <= end && bytes <= end - aligned;
}

}  // namespace

ArenaBook::ArenaBook(std::string name, std::uint64_t capacity) : name_(std::move(name)), capacity_(capacity) {
  if (capacity_ > 0) free_[0] = capacity_;
}

Allocation ArenaBook::ToAllocation(AllocationId id, const Live& live) const {
  return Allocation{id, live.offset, live.bytes, live.owner};
}

absl::StatusOr<Allocation> ArenaBook::Allocate(std::uint64_t bytes, std::uint64_t alignment, std::string_view owner) {
  if (bytes == 0) return absl::InvalidArgumentError(fmt::format("{}: allocation of 0 bytes for '{}'", name_, owner));
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: alignment {} for '{}' is not a power of two", name_, alignment, owner));
  }
  // Best fit: the smallest free block that holds the request, so large blocks stay whole.
  auto best = free_.end();
  std::uint64_t best_aligned = 0;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    std::uint64_t aligned = 0;
    if (FitsIn(it->first, it->second, bytes, alignment, aligned) &&
        (best == free_.end() || it->second < best->second)) {
      best = it;
      best_aligned = aligned;
    }
  }
  if (best == free_.end()) {
    const PoolStats s = Stats();
    return absl::ResourceExhaustedError(fmt::format(
        "{}: cannot allocate {} bytes (alignment {}) for '{}': {} of {} bytes free, largest free block {} bytes; {}",
        name_, bytes, alignment, owner, s.free, capacity_, s.largest_free_block,
        CanFitAfterCompaction(bytes, alignment) ? "compaction would make room" : "compaction would not make room"));
  }
  const std::uint64_t block_offset = best->first;
  const std::uint64_t block_end = best->first + best->second;
  free_.erase(best);
  if (best_aligned > block_offset) free_[block_offset] = best_aligned - block_offset;
  if (best_aligned + bytes < block_end) free_[best_aligned + bytes] = block_end - (best_aligned + bytes);
  const AllocationId id = next_id_++;
  Live& live = live_[id] = Live{best_aligned, bytes, alignment, std::string(owner)};
  used_ += bytes;
  return ToAllocation(id, live);
}

absl::Status ArenaBook::Free(AllocationId id) {
  auto it = live_.find(id);
  if (it == live_.end()) return absl::NotFoundError(fmt::format("{}: no live allocation with id {}", name_, id));
  InsertFree(it->second.offset, it->second.bytes);
  used_ -= it->second.bytes;
  live_.erase(it);
  return absl::OkStatus();
}

void ArenaBook::InsertFree(std::uint64_t offset, std::uint64_t bytes) {
  auto next = free_.lower_bound(offset);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      bytes += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && offset + bytes == next->first) {
    bytes += next->second;
    free_.erase(next);
  }
  free_[offset] = bytes;
}

absl::StatusOr<Allocation> ArenaBook::Lookup(AllocationId id) const {
  auto it = live_.find(id);
  if (it == live_.end()) return absl::NotFoundError(fmt::format("{}: no live allocation with id {}", name_, id));
  return ToAllocation(id, it->second);
}

std::vector<Allocation> ArenaBook::Allocations() const {
  std::vector<Allocation> out;
  out.reserve(live_.size());
  for (const auto& [id, live] : live_) out.push_back(ToAllocation(id, live));
  std::sort(out.begin(), out.end(), [](const Allocation& a, const Allocation& b) { return a.offset < b.offset; });
  return out;
}

PoolStats ArenaBook::Stats() const {
  PoolStats s;
  s.capacity = capacity_;
  s.used = used_;
  s.free = capacity_ - used_;
  for (const auto& [offset, bytes] : free_) s.largest_free_block = std::max(s.largest_free_block, bytes);
  s.fragmentation = s.free == 0 ? 0.0 : 1.0 - static_cast<double>(s.largest_free_block) / static_cast<double>(s.free);
  s.allocation_count = live_.size();
  return s;
}

bool ArenaBook::CanFit(std::uint64_t bytes, std::uint64_t alignment) const {
  if (bytes == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0) return false;
  for (const auto& [offset, size] : free_) {
    std::uint64_t aligned = 0;
    if (FitsIn(offset, size, bytes, alignment, aligned)) return true;
  }
  return false;
}

bool ArenaBook::CanFitAfterCompaction(std::uint64_t bytes, std::uint64_t alignment) const {
  if (bytes == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0) return false;
  // After compaction the free bytes form one block starting where the last allocation ends.
  std::uint64_t end = 0;
  for (const Allocation& a : Allocations()) {
    const Live& live = live_.at(a.id);
    AlignUp(end, live.alignment, end);
    end += live.bytes;
  }
  std::uint64_t aligned = 0;
  return end <= capacity_ && FitsIn(end, capacity_ - end, bytes, alignment, aligned);
}

std::vector<Relocation> ArenaBook::PlanCompaction() const {
  std::vector<Relocation> plan;
  std::uint64_t cursor = 0;
  for (const Allocation& a : Allocations()) {
    const Live& live = live_.at(a.id);
    std::uint64_t target = 0;
    AlignUp(cursor, live.alignment, target);  // target <= offset: offset is aligned and >= cursor
    if (target != live.offset) plan.push_back(Relocation{a.id, live.owner, live.offset, target, live.bytes});
    cursor = target + live.bytes;
  }
  return plan;
}

void ArenaBook::Relocate(AllocationId id, std::uint64_t new_offset) {
  live_.at(id).offset = new_offset;
  RebuildFree();
}

void ArenaBook::RebuildFree() {
  free_.clear();
  std::uint64_t cursor = 0;
  for (const Allocation& a : Allocations()) {
    if (a.offset > cursor) free_[cursor] = a.offset - cursor;
    cursor = a.offset + a.bytes;
  }
  if (cursor < capacity_) free_[cursor] = capacity_ - cursor;
}

std::vector<ArenaBook::Piece> ArenaBook::NonOverlappingPieces(std::uint64_t from, std::uint64_t to,
                                                              std::uint64_t bytes) {
  std::vector<Piece> pieces;
  if (bytes == 0 || from == to) return pieces;
  // Moving down: a piece no longer than the distance never overlaps its own source, and only
  // overwrites source bytes that earlier pieces already copied.
  const std::uint64_t step = from > to ? from - to : bytes;
  for (std::uint64_t done = 0; done < bytes; done += step) {
    pieces.push_back(Piece{from + done, to + done, std::min(step, bytes - done)});
  }
  return pieces;
}

}  // namespace cace
