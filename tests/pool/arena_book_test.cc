#include "lib/pool/arena_book.h"

#include <catch2/catch.hpp>

namespace cace {
namespace {

TEST_CASE("allocations are aligned, disjoint and counted") {
  ArenaBook book("test arena", 4096);
  auto a = book.Allocate(100, 64, "a");
  auto b = book.Allocate(200, 256, "b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->offset % 64 == 0);
  CHECK(b->offset % 256 == 0);
  CHECK((a->offset + a->bytes <= b->offset || b->offset + b->bytes <= a->offset));
  const PoolStats s = book.Stats();
  CHECK(s.capacity == 4096);
  CHECK(s.used == 300);
  CHECK(s.free == 3796);
  CHECK(s.allocation_count == 2);
  CHECK(book.Lookup(a->id)->owner == "a");
}

TEST_CASE("bad requests are errors and change nothing") {
  ArenaBook book("test arena", 1024);
  CHECK(absl::IsInvalidArgument(book.Allocate(0, 64, "zero").status()));
  CHECK(absl::IsInvalidArgument(book.Allocate(10, 48, "odd alignment").status()));
  CHECK(absl::IsNotFound(book.Free(12345)));
  CHECK(book.Stats().used == 0);
  CHECK(book.Stats().largest_free_block == 1024);
}

TEST_CASE("freeing coalesces neighbours into one block") {
  ArenaBook book("test arena", 3000);
  auto a = book.Allocate(1000, 1, "a");
  auto b = book.Allocate(1000, 1, "b");
  auto c = book.Allocate(1000, 1, "c");
  REQUIRE((a.ok() && b.ok() && c.ok()));
  CHECK(book.Stats().free == 0);
  REQUIRE(book.Free(a->id).ok());
  REQUIRE(book.Free(c->id).ok());
  CHECK(book.Stats().free == 2000);
  CHECK(book.Stats().largest_free_block == 1000);
  CHECK(book.Stats().fragmentation == Approx(0.5));
  REQUIRE(book.Free(b->id).ok());  // joins both neighbours
  CHECK(book.Stats().largest_free_block == 3000);
  CHECK(book.Stats().fragmentation == 0.0);
  CHECK(book.Allocate(3000, 1, "whole").ok());
}

TEST_CASE("double free is NotFound") {
  ArenaBook book("test arena", 1024);
  auto a = book.Allocate(10, 8, "a");
  REQUIRE(a.ok());
  REQUIRE(book.Free(a->id).ok());
  CHECK(absl::IsNotFound(book.Free(a->id)));
  CHECK(book.Stats().free == 1024);
}

TEST_CASE("best fit keeps the large hole whole") {
  ArenaBook book("test arena", 10000);
  auto a = book.Allocate(1000, 1, "a");
  auto gap_small = book.Allocate(100, 1, "small hole");
  auto b = book.Allocate(1000, 1, "b");
  REQUIRE((a.ok() && gap_small.ok() && b.ok()));
  REQUIRE(book.Free(gap_small->id).ok());  // holes: 100 bytes at 1000, 7900 bytes at 2100
  auto c = book.Allocate(80, 1, "c");
  REQUIRE(c.ok());
  CHECK(c->offset == 1000);
  CHECK(book.Stats().largest_free_block == 7900);
}

TEST_CASE("exhaustion is ResourceExhausted with the figures, and changes nothing") {
  ArenaBook book("test arena", 1000);
  auto a = book.Allocate(600, 1, "a");
  REQUIRE(a.ok());
  auto too_big = book.Allocate(500, 1, "model-x");
  REQUIRE(absl::IsResourceExhausted(too_big.status()));
  const std::string message(too_big.status().message());
  CHECK(message.find("500 bytes") != std::string::npos);
  CHECK(message.find("model-x") != std::string::npos);
  CHECK(message.find("400 of 1000 bytes free") != std::string::npos);
  CHECK(message.find("compaction would not make room") != std::string::npos);
  CHECK(book.Stats().used == 600);
  CHECK_FALSE(book.CanFit(500, 1));
  CHECK(book.CanFit(400, 1));
}

TEST_CASE("alignment padding that does not fit is exhaustion, not overflow") {
  ArenaBook book("test arena", 1000);
  auto a = book.Allocate(1, 1, "a");
  REQUIRE(a.ok());
  CHECK(absl::IsResourceExhausted(book.Allocate(999, 1024, "aligned").status()));
  CHECK(absl::IsResourceExhausted(book.Allocate(UINT64_MAX, 1, "huge").status()));
}

TEST_CASE("fragmented free bytes: compaction plan slides allocations down and makes room") {
  ArenaBook book("test arena", 1000);
  std::vector<Allocation> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(*book.Allocate(200, 8, "m" + std::to_string(i)));
  REQUIRE(book.Free(blocks[1].id).ok());
  REQUIRE(book.Free(blocks[3].id).ok());
  // 400 bytes free in two holes of 200: a 300-byte request does not fit without compaction.
  CHECK(book.Stats().free == 400);
  CHECK(book.Stats().largest_free_block == 200);
  CHECK_FALSE(book.CanFit(300, 8));
  CHECK(book.CanFitAfterCompaction(300, 8));
  auto refused = book.Allocate(300, 8, "new");
  REQUIRE(absl::IsResourceExhausted(refused.status()));
  CHECK(std::string(refused.status().message()).find("compaction would make room") != std::string::npos);

  const std::vector<Relocation> plan = book.PlanCompaction();
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].id == blocks[2].id);
  CHECK(plan[0].old_offset == 400);
  CHECK(plan[0].new_offset == 200);
  CHECK(plan[1].id == blocks[4].id);
  CHECK(plan[1].new_offset == 400);
  for (const Relocation& r : plan) book.Relocate(r.id, r.new_offset);
  CHECK(book.Stats().largest_free_block == 400);
  CHECK(book.Stats().fragmentation == 0.0);
  CHECK(book.Allocate(300, 8, "new").ok());
}

TEST_CASE("compaction keeps each allocation's alignment") {
  ArenaBook book("test arena", 1 << 16);
  auto a = book.Allocate(100, 1, "a");
  auto b = book.Allocate(1000, 4096, "b");
  REQUIRE((a.ok() && b.ok()));
  REQUIRE(book.Free(a->id).ok());
  for (const Relocation& r : book.PlanCompaction()) {
    CHECK(r.new_offset % 4096 == 0);
    book.Relocate(r.id, r.new_offset);
  }
  CHECK(book.Lookup(b->id)->offset == 0);
}

TEST_CASE("overlapping moves split into non-overlapping pieces in a safe order") {
  const auto pieces = ArenaBook::NonOverlappingPieces(100, 70, 100);  // [100,200) -> [70,170)
  REQUIRE(pieces.size() == 4);
  std::uint64_t total = 0;
  for (const auto& p : pieces) {
    CHECK((p.to + p.bytes <= p.from || p.from + p.bytes <= p.to));
    total += p.bytes;
  }
  CHECK(total == 100);
  CHECK(pieces.front().from == 100);
  CHECK(pieces.front().to == 70);
  CHECK(pieces.back().bytes == 10);
  CHECK(ArenaBook::NonOverlappingPieces(500, 0, 100).size() == 1);
}

}  // namespace
}  // namespace cace
