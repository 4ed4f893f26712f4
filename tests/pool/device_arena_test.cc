// The device arena through the MemoryPool interface. Without CUDA (stub build) or without a device
// the arena cannot be created: the test checks that answer and says it skipped the rest.
#include <catch2/catch.hpp>
#include <numeric>

#include "cace/device.h"
#include "cace/memory_pool.h"

namespace cace {
namespace {

std::unique_ptr<MemoryPool> DeviceArenaOrSkip(std::uint64_t capacity) {
  auto arena = CreateDeviceArena(0, capacity);
  if (!BuiltWithCuda()) {
    CHECK(absl::IsFailedPrecondition(arena.status()));
    WARN("SKIPPED device arena checks: cace was built without CUDA");
    return nullptr;
  }
  if (absl::IsUnavailable(arena.status())) {
    WARN("SKIPPED device arena checks: no CUDA device (" << arena.status() << ")");
    return nullptr;
  }
  REQUIRE(arena.ok());
  return std::move(*arena);
}

TEST_CASE("device arena: streamed writes read back, compaction moves device bytes") {
  const std::uint64_t block = 48 << 20;  // larger than the streamer's 32 MiB chunk: two buffers in use
  auto arena = DeviceArenaOrSkip(4 * block);
  if (arena == nullptr) return;
  CHECK(arena->kind() == MemoryKind::kDevice);
  std::vector<Allocation> models;
  std::vector<std::vector<std::uint32_t>> contents;
  for (int i = 0; i < 4; ++i) {
    auto a = arena->Allocate(block, 4096, "model" + std::to_string(i));
    REQUIRE(a.ok());
    std::vector<std::uint32_t> data(block / 4);
    std::iota(data.begin(), data.end(), static_cast<std::uint32_t>(i) << 28);
    REQUIRE(arena->Write(a->id, 0, data.data(), block).ok());
    models.push_back(*a);
    contents.push_back(std::move(data));
  }
  REQUIRE(arena->Free(models[0].id).ok());
  REQUIRE(arena->Free(models[2].id).ok());
  CHECK_FALSE(arena->CanFit(block + block / 2, 4096));
  int moves = 0;
  REQUIRE(arena->Compact([&](const Relocation&) { ++moves; }).ok());
  CHECK(moves == 2);
  CHECK(arena->CanFit(block + block / 2, 4096));
  for (int i : {1, 3}) {
    std::vector<std::uint32_t> back(block / 4);
    REQUIRE(arena->Read(models[i].id, 0, back.data(), block).ok());
    CHECK(back == contents[i]);
  }
}

}  // namespace
}  // namespace cace
