// A minimal serving loop for policy tests: requests arrive one at a time, a miss reserves room
// through the registry (so the mechanism's rules apply), evicts and loads at once. It counts
// misses and evictions and checks that the capacity is never exceeded.
#ifndef CACE_TESTS_POLICY_SERVING_LOOP_H_
#define CACE_TESTS_POLICY_SERVING_LOOP_H_

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/policy/residency_table.h"
#include "lib/policy/policies.h"

namespace cace::testing {

struct LoopModel {
  std::string name;
  std::uint64_t bytes;
  Seconds load_seconds;
};

struct LoopRequest {
  ModelHandle model;
  TaskKind kind = TaskKind::kCompletion;
  std::uint32_t output_tokens = 16;
};

struct LoopResult {
  int misses = 0;
  int evictions = 0;
  std::uint64_t peak_used = 0;
};

inline std::unique_ptr<ResidencyTable> MakeRegistry(std::uint64_t capacity,
                                                    const std::vector<LoopModel>& models,
                                                    EvictionPolicy& policy) {
  auto registry = std::make_unique<ResidencyTable>(capacity);
  for (const LoopModel& m : models) {
    ModelSpec spec{m.name, {}, WeightFormat::kSimulated, m.bytes, 0, m.load_seconds};
    ModelHandle h = registry->Register(spec).value();
    policy.OnRegister(h, spec);
  }
  return registry;
}

// One request per second of virtual time.
inline LoopResult RunLoop(std::uint64_t capacity, const std::vector<LoopModel>& models,
                          const std::vector<LoopRequest>& requests, EvictionPolicy& policy) {
  std::unique_ptr<ResidencyTable> owned = MakeRegistry(capacity, models, policy);
  ResidencyTable& registry = *owned;
  LoopResult result;
  Seconds now = 0;
  for (const LoopRequest& r : requests) {
    now += 1.0;
    policy.OnAccess(AccessEvent{r.model, r.kind, now});
    ModelRecord record = registry.Get(r.model).value();
    if (record.state != ModelState::kResident) {
      ++result.misses;
      Reservation room = registry.ReserveRoom(policy, record.spec.weight_bytes, now).value();
      for (ModelHandle victim : room.victims) {
        policy.OnEvict(victim, now);  // the table fires no hook: its owner does
        if (!registry.FinishEviction(victim).ok()) throw std::logic_error("eviction failed");
        ++result.evictions;
      }
      if (!registry.BeginLoad(r.model).ok()) throw std::logic_error("load without room");
      if (!registry.FinishLoad(r.model, record.load_seconds, now).ok()) throw std::logic_error("load");
      policy.OnLoad(r.model, now);
    }
    if (registry.used_bytes() > capacity) throw std::logic_error("capacity exceeded");
    result.peak_used = std::max(result.peak_used, registry.used_bytes());
    if (!registry.BeginRequest(r.model, now).ok()) throw std::logic_error("request");
    if (!registry.EndRequest(r.model).ok()) throw std::logic_error("request end");
    policy.OnComplete(CompletionEvent{r.model, r.kind, now, r.output_tokens});
  }
  return result;
}

}  // namespace cace::testing

#endif  // CACE_TESTS_POLICY_SERVING_LOOP_H_
