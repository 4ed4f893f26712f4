// A host of the installed package: room for two of three models, a completion model in steady use
// and a reasoning model used once since, and a third model to load. LRU evicts the completion
// model (used less recently); CACE keeps it and evicts the reasoning model. The policy is asked
// through the public mechanism (PlanEviction), as the serving core asks it.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cace/model_registry.h"
#include "cace/policy_factory.h"

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

absl::StatusOr<std::string> VictimUnder(cace::EvictionPolicy& policy) {
  const std::vector<std::string> names = {"completion-1b", "reasoning-7b", "chat-7b"};
  for (cace::ModelHandle m = 0; m < names.size(); ++m) {
    policy.OnRegister(m, cace::ModelSpec{.name = names[m], .weight_bytes = 4 * kGiB, .load_seconds = 2.0});
  }
  std::vector<cace::Seconds> last_use(names.size(), 0.0);
  auto serve = [&](cace::ModelHandle m, cace::TaskKind kind, cace::Seconds now) {
    policy.OnAccess({m, kind, now});
    last_use[m] = now;
    policy.OnComplete({m, kind, now, kind == cace::TaskKind::kCompletion ? 16u : 2000u});
  };
  for (cace::Seconds t = 1; t <= 10; ++t) serve(0, cace::TaskKind::kCompletion, t);
  serve(1, cace::TaskKind::kReasoning, 11.0);
  // Models 0 and 1 are resident and idle; model 2 needs 4 GiB more.
  std::vector<cace::ResidentModel> residents;
  for (cace::ModelHandle m : {0u, 1u}) {
    residents.push_back({cace::Candidate{m, 4 * kGiB, last_use[m], 2.0}, false, 0});
  }
  std::vector<cace::Candidate> scratch;
  std::vector<cace::ModelHandle> victims;
  if (absl::Status s = cace::PlanEviction(policy, residents, 4 * kGiB, 12.0, {}, false, scratch, victims);
      !s.ok()) {
    return s;
  }
  if (victims.size() != 1) return absl::InternalError("expected one victim");
  return names[victims[0]];
}

bool Expect(cace::EvictionPolicy& policy, const std::string& expected) {
  absl::StatusOr<std::string> victim = VictimUnder(policy);
  if (!victim.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(policy.name()).c_str(),
                 std::string(victim.status().message()).c_str());
    return false;
  }
  std::printf("%s evicts %s\n", std::string(policy.name()).c_str(), victim->c_str());
  return *victim == expected;
}

}  // namespace

int main() {
  auto lru = cace::MakeEvictionPolicy("lru");
  auto cace = cace::MakeEvictionPolicy("cace");
  if (!lru.ok() || !cace.ok()) return 1;
  const bool lru_ok = Expect(**lru, "completion-1b");
  const bool cace_ok = Expect(**cace, "reasoning-7b");
  return lru_ok && cace_ok ? 0 : 1;
}
