#include "lib/pool/host_arena.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <numeric>

namespace cace {
namespace {

std::unique_ptr<HostArena> MakeArena(std::uint64_t capacity) {
  auto arena = HostArena::Create(capacity);
  REQUIRE(arena.ok());
  return std::move(*arena);
}

TEST_CASE("host arena reserves memory and reports how") {
  auto arena = MakeArena(3 << 20);
  CHECK(arena->kind() == MemoryKind::kHost);
  CHECK(arena->Stats().capacity == (3u << 20));
  CHECK(arena->mapped_bytes() == (4u << 20));  // rounded to 2 MiB
  INFO("backing: " << HostBackingName(arena->backing()));
  CHECK(!HostBackingName(arena->backing()).empty());
  CHECK(absl::IsInvalidArgument(HostArena::Create(0).status()));
}

TEST_CASE("write, read and address agree; out-of-range access is refused") {
  auto arena = MakeArena(1 << 20);
  auto a = arena->Allocate(1000, 256, "model");
  REQUIRE(a.ok());
  std::vector<std::uint8_t> data(1000);
  std::iota(data.begin(), data.end(), 0);
  REQUIRE(arena->Write(a->id, 0, data.data(), data.size()).ok());
  std::vector<std::uint8_t> back(1000);
  REQUIRE(arena->Read(a->id, 0, back.data(), back.size()).ok());
  CHECK(back == data);
  void* address = *arena->Address(a->id);
  CHECK(reinterpret_cast<std::uintptr_t>(address) % 256 == 0);
  CHECK(std::memcmp(address, data.data(), data.size()) == 0);
  CHECK(absl::IsOutOfRange(arena->Write(a->id, 990, data.data(), 11)));
  CHECK(absl::IsOutOfRange(arena->Read(a->id, UINT64_MAX, back.data(), 2)));
  CHECK(absl::IsNotFound(arena->Write(a->id + 100, 0, data.data(), 1)));
}

TEST_CASE("compaction moves bytes, reports new offsets, and admits a model that did not fit") {
  // Four 256 KiB models fill 1 MiB; evicting two leaves 512 KiB free in two holes, so a 384 KiB
  // model fits only after compaction: no third model has to be evicted.
  const std::uint64_t block = 256 << 10;
  auto arena = MakeArena(4 * block);
  std::vector<Allocation> models;
  for (int i = 0; i < 4; ++i) {
    auto a = arena->Allocate(block, 4096, "model" + std::to_string(i));
    REQUIRE(a.ok());
    std::vector<std::uint8_t> fill(block, static_cast<std::uint8_t>(0x10 + i));
    REQUIRE(arena->Write(a->id, 0, fill.data(), fill.size()).ok());
    models.push_back(*a);
  }
  REQUIRE(arena->Free(models[0].id).ok());
  REQUIRE(arena->Free(models[2].id).ok());
  const std::uint64_t wanted = 384 << 10;
  CHECK_FALSE(arena->CanFit(wanted, 4096));
  CHECK(arena->CanFitAfterCompaction(wanted, 4096));
  CHECK(arena->Stats().fragmentation == Approx(0.5));

  std::map<AllocationId, std::uint64_t> owner_view = {{models[1].id, models[1].offset}, {models[3].id, models[3].offset}};
  int moves = 0;
  REQUIRE(arena->Compact([&](const Relocation& r) {
                  CHECK(owner_view.at(r.id) == r.old_offset);
                  owner_view[r.id] = r.new_offset;
                  ++moves;
                }).ok());
  CHECK(moves == 2);
  CHECK(owner_view[models[1].id] == 0);
  CHECK(owner_view[models[3].id] == block);
  CHECK(arena->Stats().fragmentation == 0.0);
  for (int i : {1, 3}) {
    std::vector<std::uint8_t> back(block);
    REQUIRE(arena->Read(models[i].id, 0, back.data(), back.size()).ok());
    CHECK(std::all_of(back.begin(), back.end(), [&](std::uint8_t v) { return v == 0x10 + i; }));
    CHECK(arena->Lookup(models[i].id)->offset == owner_view[models[i].id]);
  }
  CHECK(arena->Allocate(wanted, 4096, "new model").ok());
}

TEST_CASE("the arena's own bytes are moved with memmove for overlapping slides") {
  auto arena = MakeArena(1 << 20);
  auto a = arena->Allocate(100, 1, "gap");
  auto b = arena->Allocate(1000, 1, "b");
  REQUIRE((a.ok() && b.ok()));
  std::vector<std::uint8_t> data(1000);
  std::iota(data.begin(), data.end(), 7);
  REQUIRE(arena->Write(b->id, 0, data.data(), data.size()).ok());
  REQUIRE(arena->Free(a->id).ok());
  REQUIRE(arena->Compact(nullptr).ok());  // a 1000-byte block slides down by 100: overlapping
  CHECK(arena->Lookup(b->id)->offset == 0);
  std::vector<std::uint8_t> back(1000);
  REQUIRE(arena->Read(b->id, 0, back.data(), back.size()).ok());
  CHECK(back == data);
}

TEST_CASE("the generic factory gives a host pool") {
  auto pool = CreateHostArena(1 << 20);
  REQUIRE(pool.ok());
  CHECK((*pool)->kind() == MemoryKind::kHost);
  CHECK((*pool)->CanFit(1 << 20));
  CHECK_FALSE((*pool)->CanFit((1 << 20) + 1));
}

}  // namespace
}  // namespace cace
