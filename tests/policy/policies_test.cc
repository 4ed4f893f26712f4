// Each policy on small hand-made sequences whose right answer is known.
#include <catch2/catch.hpp>

#include "cace/model_registry.h"
#include "lib/policy/policies.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

std::vector<ModelHandle> Choose(EvictionPolicy& policy, std::vector<Candidate> candidates,
                                std::uint64_t bytes_needed, Seconds now,
                                std::vector<ModelHandle> upcoming = {}) {
  std::vector<ModelHandle> victims;
  policy.ChooseVictims(EvictionRequest{candidates, bytes_needed, now, upcoming}, victims);
  return victims;
}

TEST_CASE("LRU evicts the least recently used, as many as needed") {
  LruPolicy lru;
  std::vector<Candidate> c = {{0, kGiB, 5.0, 1.0}, {1, kGiB, 2.0, 1.0}, {2, kGiB, 9.0, 1.0}};
  CHECK(Choose(lru, c, kGiB, 10.0) == std::vector<ModelHandle>{1});
  CHECK(Choose(lru, c, 2 * kGiB, 10.0) == std::vector<ModelHandle>{1, 0});
  CHECK(Choose(lru, c, kGiB + 1, 10.0) == std::vector<ModelHandle>{1, 0});
}

TEST_CASE("LFU evicts the least frequently used; ties go to the least recent") {
  LfuPolicy lfu;
  for (int i = 0; i < 3; ++i) lfu.OnAccess({0, TaskKind::kCompletion, 1.0 + i});
  lfu.OnAccess({1, TaskKind::kCompletion, 5.0});
  lfu.OnAccess({2, TaskKind::kCompletion, 6.0});
  // Model 0 is the oldest but the most used; 1 and 2 tie on count, 1 is older.
  std::vector<Candidate> c = {{0, kGiB, 3.0, 1.0}, {1, kGiB, 5.0, 1.0}, {2, kGiB, 6.0, 1.0}};
  CHECK(Choose(lfu, c, kGiB, 10.0) == std::vector<ModelHandle>{1});
}

TEST_CASE("GDSF evicts the lowest frequency x cost per byte and ages by inflation") {
  GdsfPolicy gdsf;
  gdsf.OnAccess({0, TaskKind::kCompletion, 1.0});
  gdsf.OnAccess({1, TaskKind::kCompletion, 2.0});
  // Same frequency; 0 costs 10 s for 2 GiB (5 s/GiB), 1 costs 2 s for 1 GiB (2 s/GiB).
  std::vector<Candidate> c = {{0, 2 * kGiB, 1.0, 10.0}, {1, kGiB, 2.0, 2.0}};
  CHECK(Choose(gdsf, c, kGiB, 3.0) == std::vector<ModelHandle>{1});
  gdsf.OnEvict(1, 3.0);
  // Inflation is now 2: a fresh model 2 with one access (H = 2 + 1) outranks 0 only if 0's
  // priority (2 + 5) is higher: it is, so 2 goes first.
  gdsf.OnAccess({2, TaskKind::kCompletion, 4.0});
  std::vector<Candidate> c2 = {{0, 2 * kGiB, 1.0, 10.0}, {2, kGiB, 4.0, 1.0}};
  CHECK(Choose(gdsf, c2, kGiB, 5.0) == std::vector<ModelHandle>{2});
}

TEST_CASE("keep-alive evicts idle-expired first, then the shortest keep-alive, then by name") {
  KeepAlivePolicy keep_alive(300.0);
  keep_alive.OnRegister(0, ModelSpec{"zeta", {}, WeightFormat::kSimulated, kGiB, 0, 1.0});
  keep_alive.OnRegister(1, ModelSpec{"alpha", {}, WeightFormat::kSimulated, kGiB, 0, 1.0});
  keep_alive.OnRegister(2, ModelSpec{"beta", {}, WeightFormat::kSimulated, kGiB, 0, 1.0});
  keep_alive.set_keep_alive(2, 60.0);
  CHECK(keep_alive.IdleTimeout(2) == 60.0);
  CHECK(keep_alive.IdleTimeout(0) == 300.0);
  // At t=400: model 0 idle 350 s (expired), 1 idle 100 s, 2 idle 50 s (keep-alive 60: not expired).
  std::vector<Candidate> c = {{0, kGiB, 50.0, 1.0}, {1, kGiB, 300.0, 1.0}, {2, kGiB, 350.0, 1.0}};
  CHECK(Choose(keep_alive, c, kGiB, 400.0) == std::vector<ModelHandle>{0});
  CHECK(Choose(keep_alive, c, 2 * kGiB, 400.0) == std::vector<ModelHandle>{0, 2});
  // Equal keep-alives and none expired: by name.
  keep_alive.set_keep_alive(2, 300.0);
  std::vector<Candidate> fresh = {{0, kGiB, 390.0, 1.0}, {1, kGiB, 380.0, 1.0}, {2, kGiB, 399.0, 1.0}};
  CHECK(Choose(keep_alive, fresh, kGiB, 400.0) == std::vector<ModelHandle>{1});  // "alpha"
}

TEST_CASE("CACE keeps the busy completion model and evicts the idle reasoning one") {
  CacePolicy cace;
  // Model 0: small completion model, used every 2 s. Model 1: large reasoning model, used once.
  for (int i = 0; i < 50; ++i) cace.OnAccess({0, TaskKind::kCompletion, i * 2.0});
  cace.OnAccess({1, TaskKind::kReasoning, 90.0});
  cace.OnComplete({1, TaskKind::kReasoning, 95.0, 2000});
  // LRU would evict 0 (last used at 98 vs 1 at 99? no: make 1 the more recent).
  std::vector<Candidate> c = {{0, 3 * kGiB, 98.0, 2.0}, {1, 15 * kGiB, 99.0, 5.0}};
  LruPolicy lru;
  CHECK(Choose(lru, c, kGiB, 100.0) == std::vector<ModelHandle>{0});
  CHECK(Choose(cace, c, kGiB, 100.0) == std::vector<ModelHandle>{1});
}

TEST_CASE("CACE keeps a model that queued requests are waiting for") {
  CacePolicy cace;
  std::vector<Candidate> c = {{0, kGiB, 10.0, 1.0}, {1, kGiB, 10.0, 1.0}};
  cace.OnAccess({0, TaskKind::kChat, 10.0});
  cace.OnAccess({1, TaskKind::kChat, 10.0});
  CHECK(Choose(cace, c, kGiB, 11.0, {1, 1}) == std::vector<ModelHandle>{0});
  CHECK(Choose(cace, c, kGiB, 11.0, {0}) == std::vector<ModelHandle>{1});
}

TEST_CASE("CACE gives back victims that turn out not to be needed") {
  CacePolicy cace;
  // Lowest keep-values: the small idle model 0, then the big model 1 that alone frees enough.
  cace.OnAccess({1, TaskKind::kCompletion, 1.0});
  for (int i = 0; i < 10; ++i) cace.OnAccess({2, TaskKind::kCompletion, 50.0 + i});
  std::vector<Candidate> c = {{0, kGiB, 0.0, 0.5}, {1, 8 * kGiB, 1.0, 5.0}, {2, 8 * kGiB, 60.0, 5.0}};
  auto victims = Choose(cace, c, 8 * kGiB, 61.0);
  CHECK(victims == std::vector<ModelHandle>{1});
  CacePolicy no_prune(std::make_unique<CaceScorer>(), CacePolicyOptions{.prune_unneeded_victims = false});
  no_prune.OnAccess({1, TaskKind::kCompletion, 1.0});
  for (int i = 0; i < 10; ++i) no_prune.OnAccess({2, TaskKind::kCompletion, 50.0 + i});
  CHECK(Choose(no_prune, c, 8 * kGiB, 61.0) == std::vector<ModelHandle>{0, 1});
}

TEST_CASE("the paper variant evicts the model whose next queued use is farthest") {
  CacePolicy paper(std::make_unique<PaperScorer>());
  CHECK(paper.name() == "cace-paper");
  std::vector<Candidate> c = {{0, kGiB, 10.0, 1.0}, {1, kGiB, 10.0, 1.0}, {2, kGiB, 10.0, 1.0}};
  CHECK(Choose(paper, c, kGiB, 11.0, {2, 5, 0, 5, 5}) == std::vector<ModelHandle>{1});
}

TEST_CASE("the oracle evicts the model needed farthest in the future") {
  // Future: 0 1 2 0 1 0 ... after the first three, 2 is never used again, then 1 is farther than 0.
  OraclePolicy oracle({0, 1, 2, 0, 1, 0});
  for (ModelHandle m : {0u, 1u, 2u}) oracle.OnAccess({m, TaskKind::kCompletion, 1.0});
  std::vector<Candidate> c = {{0, kGiB, 1.0, 1.0}, {1, kGiB, 1.0, 1.0}, {2, kGiB, 1.0, 1.0}};
  CHECK(Choose(oracle, c, kGiB, 2.0) == std::vector<ModelHandle>{2});
  std::vector<Candidate> c01 = {{0, kGiB, 1.0, 1.0}, {1, kGiB, 1.0, 1.0}};
  CHECK(Choose(oracle, c01, kGiB, 2.0) == std::vector<ModelHandle>{1});
  // Weighted by reload cost: 1 is farther, but ten times as costly to reload as 0.
  std::vector<Candidate> weighted = {{0, kGiB, 1.0, 1.0}, {1, kGiB, 1.0, 10.0}};
  CHECK(Choose(oracle, weighted, kGiB, 2.0) == std::vector<ModelHandle>{0});
}

}  // namespace
}  // namespace cace
