// The host arena: one anonymous mapping, backed by huge pages where the system allows
// (MAP_HUGETLB from the reserved pool, else transparent huge pages via madvise, else plain
// pages), sub-allocated by SubAllocatedArena.
#ifndef CACE_LIB_POOL_HOST_ARENA_H_
#define CACE_LIB_POOL_HOST_ARENA_H_

#include <memory>

#include "cace/memory_pool.h"
#include "lib/pool/sub_allocated_arena.h"

namespace cace {

enum class HostBacking : std::uint8_t { kHugeTlb, kTransparentHugePages, kPlain };
std::string_view HostBackingName(HostBacking backing);

class HostArena final : public SubAllocatedArena {
 public:
  static absl::StatusOr<std::unique_ptr<HostArena>> Create(std::uint64_t capacity, HostArenaOptions options = {});
  ~HostArena() override;

  MemoryKind kind() const override { return MemoryKind::kHost; }
  HostBacking backing() const { return backing_; }
  // Bytes mapped (capacity rounded up to the page size used).
  std::uint64_t mapped_bytes() const { return mapped_bytes_; }

 private:
  HostArena(std::byte* base, std::uint64_t capacity, std::uint64_t mapped_bytes, HostBacking backing);
  absl::Status MoveDown(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) override;
  absl::Status CopyIn(std::uint64_t offset, const void* src, std::uint64_t bytes) override;
  absl::Status CopyOut(std::uint64_t offset, void* dst, std::uint64_t bytes) const override;

  std::uint64_t mapped_bytes_;
  HostBacking backing_;
};

}  // namespace cace

#endif  // CACE_LIB_POOL_HOST_ARENA_H_
