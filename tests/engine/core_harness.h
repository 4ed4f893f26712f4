// The serving core's tests share this: a backend that records what the core asks for, and a
// harness in which the test plays the driver, checking the core's invariants after each event.
#ifndef CACE_TESTS_ENGINE_CORE_HARNESS_H_
#define CACE_TESTS_ENGINE_CORE_HARNESS_H_

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/policy/policies.h"
#include "lib/engine/serving_core.h"

namespace cace::testing {

inline constexpr std::uint64_t kGiB = 1ull << 30;

// Records what the core asks for; the test plays the driver.
struct RecordingBackend final : ServingBackend {
  std::vector<std::string> log;
  std::vector<std::pair<std::uint64_t, absl::Status>> ended;
  void StartLoad(ModelHandle m) override { log.push_back("load " + std::to_string(m)); }
  void Unload(ModelHandle m) override { log.push_back("unload " + std::to_string(m)); }
  void StartRequest(const CoreRequest& r) override {
    log.push_back("start " + std::to_string(r.id) + "@" + std::to_string(r.model));
  }
  void StopRequest(const CoreRequest& r) override { log.push_back("stop " + std::to_string(r.id)); }
  void RequestEnded(const CoreRequest& r, const absl::Status& status) override {
    ended.emplace_back(r.id, status);
  }
  Seconds DrainSeconds(ModelHandle) const override { return 1.0; }
  // The tiers: a load from the disk logs as StartLoad does.
  void StartLoadFrom(ModelHandle m, LoadTier tier) override {
    log.push_back("load " + std::to_string(m) + (tier == LoadTier::kDisk ? "" : " from host-cache"));
  }
  void EvictToHostCache(ModelHandle m) override { log.push_back("keep " + std::to_string(m)); }
  void DropFromHostCache(ModelHandle m) override { log.push_back("drop " + std::to_string(m)); }
  bool cancel_loads = true;  // whether CancelLoad stops a load
  bool CancelLoad(ModelHandle m) override {
    log.push_back("cancel " + std::to_string(m) + (cancel_loads ? "" : " refused"));
    return cancel_loads;
  }
  std::vector<std::string> Take() { return std::exchange(log, {}); }
};

// Each model's KV cache costs one byte per token, so a request's reservation in bytes is its
// prompt + max_tokens.
struct Harness {
  explicit Harness(std::uint64_t capacity, std::vector<std::uint64_t> sizes,
                   std::unique_ptr<EvictionPolicy> p = std::make_unique<LruPolicy>(),
                   std::unique_ptr<LoadScheduler> s = std::make_unique<FcfsLoadScheduler>(),
                   CoreOptions options = {})
      : policy(std::move(p)), scheduler(std::move(s)),
        core(std::make_unique<ServingCore>(capacity, *policy, *scheduler, backend, options)) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      ModelSpec spec{"m" + std::to_string(i), {}, WeightFormat::kSimulated, sizes[i], 1, 1.0 + static_cast<double>(i)};
      REQUIRE(core->AddModel(spec).value() == i);
    }
  }
  // A request whose KV reservation is `kv` bytes (at least 1: max_tokens is at least 1).
  CoreRequest Request(std::uint64_t id, ModelHandle model, TaskKind kind = TaskKind::kCompletion,
                      std::uint64_t kv = 0, Seconds arrival = 0) {
    return CoreRequest{id, model, kind, arrival, 0, static_cast<std::uint32_t>(std::max<std::uint64_t>(1, kv))};
  }
  // Driver events, each followed by the invariant check.
  void Submit(const CoreRequest& r, Seconds now) {
    const absl::Status submitted = core->Submit(r, now);
    INFO(submitted.message());
    REQUIRE(submitted.ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  void Loaded(ModelHandle m, Seconds now, Seconds measured) {
    REQUIRE(core->OnLoadFinished(m, now, measured).ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  void Finish(std::uint64_t id, std::uint32_t tokens, Seconds now) {
    REQUIRE(core->OnRequestFinished(id, tokens, now).ok());
    REQUIRE(core->CheckInvariants().ok());
  }
  ModelState State(ModelHandle m) { return core->registry().Get(m)->state; }
  ModelRecord Record(ModelHandle m) { return core->registry().Get(m).value(); }
  absl::StatusCode Ended(std::uint64_t id) {
    absl::StatusCode code = absl::StatusCode::kUnknown;
    int times = 0;
    for (const auto& [ended_id, status] : backend.ended) {
      if (ended_id == id) code = status.code(), ++times;
    }
    REQUIRE(times <= 1);  // a request ends once
    return times == 1 ? code : absl::StatusCode::kUnknown;
  }

  std::unique_ptr<EvictionPolicy> policy;
  std::unique_ptr<LoadScheduler> scheduler;
  RecordingBackend backend;
  std::unique_ptr<ServingCore> core;
};

using Log = std::vector<std::string>;

}  // namespace cace::testing

#endif  // CACE_TESTS_ENGINE_CORE_HARNESS_H_
