#include <catch2/catch.hpp>

#include "lib/policy/residency_table.h"
#include "lib/policy/policies.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

ModelSpec Spec(std::string name, std::uint64_t bytes, Seconds load = 1.0) {
  return ModelSpec{std::move(name), {}, WeightFormat::kSimulated, bytes, 0, load};
}

void MakeResident(ResidencyTable& registry, ModelHandle h, Seconds load = 1.0) {
  REQUIRE(registry.BeginLoad(h).ok());
  REQUIRE(registry.FinishLoad(h, load, 0.0).ok());
}

TEST_CASE("registration rejects bad specs with clear errors") {
  ResidencyTable registry(10 * kGiB);
  CHECK(registry.Register(Spec("", kGiB)).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(registry.Register(Spec("zero", 0)).status().code() == absl::StatusCode::kInvalidArgument);
  auto too_big = registry.Register(Spec("huge", 11 * kGiB));
  CHECK(too_big.status().code() == absl::StatusCode::kOutOfRange);
  CHECK(std::string(too_big.status().message()).find("huge") != std::string::npos);
  REQUIRE(registry.Register(Spec("a", kGiB)).ok());
  CHECK(registry.Register(Spec("a", kGiB)).status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(registry.size() == 1);
  CHECK(registry.Find("a").value() == 0);
  CHECK(registry.Find("b").status().code() == absl::StatusCode::kNotFound);
  CHECK(registry.Get(7).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("state transitions are checked") {
  ResidencyTable registry(10 * kGiB);
  ModelHandle a = registry.Register(Spec("a", kGiB)).value();
  CHECK(registry.BeginRequest(a, 0).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(registry.FinishLoad(a, 1, 0).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(registry.FinishEviction(a).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(registry.BeginLoad(a).ok());
  CHECK(registry.used_bytes() == kGiB);  // a loading model already holds its bytes
  CHECK(registry.BeginLoad(a).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(registry.AbortLoad(a).ok());
  CHECK(registry.used_bytes() == 0);
  MakeResident(registry, a);
  CHECK(registry.Get(a)->state == ModelState::kResident);
  CHECK(registry.EndRequest(a).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(registry.BeginRequest(a, 5.0).ok());
  CHECK(registry.Get(a)->in_flight == 1);
  CHECK(registry.Get(a)->last_use == 5.0);
}

TEST_CASE("measured load times are smoothed") {
  ResidencyTable registry(10 * kGiB);
  ModelHandle a = registry.Register(Spec("a", kGiB, 9.0)).value();
  CHECK(registry.Get(a)->load_seconds == 9.0);  // the estimate until measured
  MakeResident(registry, a, 2.0);
  CHECK(registry.Get(a)->load_seconds == 2.0);  // the first measurement replaces the estimate
  LruPolicy lru;
  REQUIRE(registry.ReserveRoom(lru, 10 * kGiB, 1.0).ok());
  REQUIRE(registry.FinishEviction(a).ok());
  MakeResident(registry, a, 4.0);
  CHECK(registry.Get(a)->load_seconds == Approx(0.7 * 2.0 + 0.3 * 4.0));
  CHECK(registry.Get(a)->load_samples == 2);
}

TEST_CASE("ReserveRoom evicts only what is needed and marks victims evicting") {
  ResidencyTable registry(4 * kGiB);
  LruPolicy lru;
  ModelHandle a = registry.Register(Spec("a", kGiB)).value();
  ModelHandle b = registry.Register(Spec("b", 2 * kGiB)).value();
  ModelHandle c = registry.Register(Spec("c", 2 * kGiB)).value();
  MakeResident(registry, a);
  MakeResident(registry, b);
  REQUIRE(registry.BeginRequest(a, 1.0).ok());
  REQUIRE(registry.EndRequest(a).ok());
  REQUIRE(registry.BeginRequest(b, 2.0).ok());
  REQUIRE(registry.EndRequest(b).ok());

  // 1 GiB is free: a reservation of 1 GiB evicts nothing.
  auto none = registry.ReserveRoom(lru, kGiB, 3.0);
  REQUIRE(none.ok());
  CHECK(none->victims.empty());

  auto room = registry.ReserveRoom(lru, 2 * kGiB, 3.0);
  REQUIRE(room.ok());
  REQUIRE(room->victims == std::vector<ModelHandle>{a});
  CHECK(room->bytes_freed == kGiB);
  CHECK(registry.Get(a)->state == ModelState::kEvicting);
  CHECK(registry.used_bytes() == 3 * kGiB);  // an evicting model holds memory until it is gone
  REQUIRE(registry.FinishEviction(a).ok());
  REQUIRE(registry.BeginLoad(c).ok());
}

TEST_CASE("pinned and busy models are never victims; impossible requests leave the registry as it was") {
  ResidencyTable registry(4 * kGiB);
  LruPolicy lru;
  ModelHandle a = registry.Register(Spec("a", 2 * kGiB)).value();
  ModelHandle b = registry.Register(Spec("b", 2 * kGiB)).value();
  MakeResident(registry, a);
  MakeResident(registry, b);
  REQUIRE(registry.SetPinned(a, true).ok());
  REQUIRE(registry.BeginRequest(b, 1.0).ok());  // b is busy

  const auto before = registry.Snapshot();
  auto room = registry.ReserveRoom(lru, kGiB, 2.0);
  CHECK(room.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(room.status().message()).find("not pinned") != std::string::npos);
  const auto after = registry.Snapshot();
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(after[i].state == before[i].state);
    CHECK(after[i].in_flight == before[i].in_flight);
  }
  CHECK(registry.ReserveRoom(lru, 5 * kGiB, 2.0).status().code() == absl::StatusCode::kOutOfRange);

  REQUIRE(registry.EndRequest(b).ok());
  auto freed = registry.ReserveRoom(lru, kGiB, 3.0);
  REQUIRE(freed.ok());
  CHECK(freed->victims == std::vector<ModelHandle>{b});  // a is pinned, though older
}

TEST_CASE("an evicting model with requests in flight cannot finish evicting") {
  ResidencyTable registry(2 * kGiB);
  ModelHandle a = registry.Register(Spec("a", 2 * kGiB)).value();
  MakeResident(registry, a);
  LruPolicy lru;
  REQUIRE(registry.ReserveRoom(lru, 2 * kGiB, 1.0).ok());
  CHECK(registry.Get(a)->state == ModelState::kEvicting);
  CHECK(registry.BeginRequest(a, 1.0).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("KV cache bytes count against the capacity") {
  ResidencyTable registry(4 * kGiB);
  ModelHandle a = registry.Register(Spec("a", 2 * kGiB)).value();
  CHECK(registry.SetKvBytes(a, 1).code() == absl::StatusCode::kFailedPrecondition);
  MakeResident(registry, a);
  REQUIRE(registry.SetKvBytes(a, kGiB).ok());
  CHECK(registry.used_bytes() == 3 * kGiB);
  CHECK(registry.SetKvBytes(a, 3 * kGiB).code() == absl::StatusCode::kResourceExhausted);
  CHECK(registry.used_bytes() == 3 * kGiB);
}

TEST_CASE("a removed model leaves the table; its name can be added again under a new handle") {
  ResidencyTable registry(8 * kGiB);
  ModelHandle a = registry.Register(Spec("a", kGiB)).value();
  MakeResident(registry, a);
  CHECK(registry.Remove(a).code() == absl::StatusCode::kFailedPrecondition);  // resident
  REQUIRE(registry.BeginEviction(a).ok());
  REQUIRE(registry.FinishEviction(a).ok());
  REQUIRE(registry.SetPinned(a, true).ok());
  CHECK(registry.Remove(a).code() == absl::StatusCode::kFailedPrecondition);  // pinned
  REQUIRE(registry.SetPinned(a, false).ok());
  REQUIRE(registry.Remove(a).ok());
  CHECK(registry.size() == 0);
  CHECK(registry.Snapshot().empty());
  CHECK(registry.Get(a).status().code() == absl::StatusCode::kNotFound);
  CHECK(registry.Find("a").status().code() == absl::StatusCode::kNotFound);
  CHECK(registry.BeginLoad(a).code() == absl::StatusCode::kNotFound);
  ModelHandle again = registry.Register(Spec("a", kGiB)).value();
  CHECK(again != a);
  CHECK(registry.Find("a").value() == again);
}

TEST_CASE("a model being evicted cannot be pinned; keep-alive overrides must not be negative") {
  ResidencyTable registry(8 * kGiB);
  ModelHandle a = registry.Register(Spec("a", kGiB)).value();
  MakeResident(registry, a);
  REQUIRE(registry.BeginEviction(a).ok());
  CHECK(registry.SetPinned(a, true).code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(registry.Get(a)->pinned);
  CHECK(registry.SetKeepAlive(a, -1.0).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(registry.SetKeepAlive(a, 30.0).ok());
  CHECK(registry.Get(a)->keep_alive == 30.0);
}

}  // namespace
}  // namespace cace
