// A host of the installed package: a registry with room for two of three models, a completion
// model in steady use and a reasoning model used once since, and a third model to load. LRU evicts
// the completion model (used less recently); CACE keeps it and evicts the reasoning model.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cace/model_registry.h"
#include "cace/policies.h"

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

absl::StatusOr<std::string> VictimUnder(cace::EvictionPolicy& policy) {
  cace::ModelRegistry registry(8 * kGiB);
  std::vector<cace::ModelHandle> models;
  for (const char* name : {"completion-1b", "reasoning-7b", "chat-7b"}) {
    cace::ModelSpec spec{.name = name, .weight_bytes = 4 * kGiB, .load_seconds = 2.0};
    absl::StatusOr<cace::ModelHandle> handle = registry.Register(spec);
    if (!handle.ok()) return handle.status();
    policy.OnRegister(*handle, spec);
    models.push_back(*handle);
  }
  for (cace::ModelHandle m : {models[0], models[1]}) {
    if (absl::Status s = registry.BeginLoad(m); !s.ok()) return s;
    if (absl::Status s = registry.FinishLoad(m, 2.0, 0.0); !s.ok()) return s;
  }
  auto serve = [&](cace::ModelHandle m, cace::TaskKind kind, cace::Seconds now) -> absl::Status {
    policy.OnAccess({m, kind, now});
    if (absl::Status s = registry.BeginRequest(m, now); !s.ok()) return s;
    policy.OnComplete({m, kind, now, kind == cace::TaskKind::kCompletion ? 16u : 2000u});
    return registry.EndRequest(m);
  };
  for (cace::Seconds t = 1; t <= 10; ++t) {
    if (absl::Status s = serve(models[0], cace::TaskKind::kCompletion, t); !s.ok()) return s;
  }
  if (absl::Status s = serve(models[1], cace::TaskKind::kReasoning, 11.0); !s.ok()) return s;
  absl::StatusOr<cace::Reservation> room = registry.ReserveRoom(policy, 4 * kGiB, 12.0);
  if (!room.ok()) return room.status();
  if (room->victims.size() != 1) return absl::InternalError("expected one victim");
  absl::StatusOr<cace::ModelRecord> victim = registry.Get(room->victims[0]);
  if (!victim.ok()) return victim.status();
  return victim->spec.name;
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
  cace::LruPolicy lru;
  cace::CacePolicy cace;
  const bool lru_ok = Expect(lru, "completion-1b");
  const bool cace_ok = Expect(cace, "reasoning-7b");
  return lru_ok && cace_ok ? 0 : 1;
}
