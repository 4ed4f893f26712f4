#include "lib/pool/host_arena.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace cace {
namespace {

constexpr std::uint64_t kHugePage = std::uint64_t{2} << 20;

}  // namespace

std::string_view HostBackingName(HostBacking backing) {
  switch (backing) {
    case HostBacking::kHugeTlb: return "hugetlb";
    case HostBacking::kTransparentHugePages: return "transparent huge pages";
    case HostBacking::kPlain: return "plain pages";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<HostArena>> HostArena::Create(std::uint64_t capacity, HostArenaOptions options) {
  if (capacity == 0) return absl::InvalidArgumentError("host arena: capacity must be positive");
  if (capacity > (std::uint64_t{1} << 56)) {
    return absl::InvalidArgumentError(fmt::format("host arena: capacity {} bytes is not plausible", capacity));
  }
  const std::uint64_t mapped = (capacity + kHugePage - 1) / kHugePage * kHugePage;
  void* p = MAP_FAILED;
  HostBacking backing = HostBacking::kPlain;
  if (options.try_huge_pages) {
    // Succeeds only where huge pages were reserved (vm.nr_hugepages); most systems have none.
    p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) backing = HostBacking::kHugeTlb;
  }
  if (p == MAP_FAILED) {
    p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          fmt::format("host arena: cannot map {} bytes: {}", mapped, std::strerror(errno)));
    }
    if (options.try_huge_pages && ::madvise(p, mapped, MADV_HUGEPAGE) == 0) {
      backing = HostBacking::kTransparentHugePages;
    }
  }
  return std::unique_ptr<HostArena>(new HostArena(static_cast<std::byte*>(p), capacity, mapped, backing));
}

HostArena::HostArena(std::byte* base, std::uint64_t capacity, std::uint64_t mapped_bytes, HostBacking backing)
    : SubAllocatedArena("host arena", base, capacity), mapped_bytes_(mapped_bytes), backing_(backing) {}

HostArena::~HostArena() { ::munmap(base(), mapped_bytes_); }

absl::Status HostArena::MoveDown(std::uint64_t from, std::uint64_t to, std::uint64_t bytes) {
  std::memmove(base() + to, base() + from, bytes);
  return absl::OkStatus();
}

absl::Status HostArena::CopyIn(std::uint64_t offset, const void* src, std::uint64_t bytes) {
  std::memcpy(base() + offset, src, bytes);
  return absl::OkStatus();
}

absl::Status HostArena::CopyOut(std::uint64_t offset, void* dst, std::uint64_t bytes) const {
  std::memcpy(dst, base() + offset, bytes);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MemoryPool>> CreateHostArena(std::uint64_t capacity, HostArenaOptions options) {
  absl::StatusOr<std::unique_ptr<HostArena>> arena = HostArena::Create(capacity, options);
  if (!arena.ok()) return arena.status();
  return std::unique_ptr<MemoryPool>(std::move(*arena));
}

}  // namespace cace
