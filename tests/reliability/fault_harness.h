// An Engine with fault injection at its seams (lib/faults/): every weight read goes through a
// FaultyFileSource, every allocation through a FaultyPool, and the core's CheckInvariants runs
// after every scheduler task. The tests arm a fault, then check what issue 13 asks after it: the
// memory back in the pool, the registry consistent, the other models serving, the failed request
// told why (LeakSanitizer, in the sanitizer tree, checks that nothing leaked).
#ifndef CACE_TESTS_RELIABILITY_FAULT_HARNESS_H_
#define CACE_TESTS_RELIABILITY_FAULT_HARNESS_H_

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/engine_testing.h"
#include "lib/faults/faulty_file_source.h"
#include "lib/faults/faulty_pool.h"
#include "tests/engine/engine_test_support.h"

namespace cace::testing {

class FaultHarness {
 public:
  // What the next reads and allocations do; replaced at any time (read on the engine's threads).
  void SetReadFault(ReadFaultFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    read_fault_ = std::move(fn);
  }
  void SetAllocationFault(AllocationFaultFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    allocation_fault_ = std::move(fn);
  }

  std::unique_ptr<Engine> MakeEngine(EngineOptions options, EngineHooks hooks = {}) {
    options.compute_threads = 1;
    if (options.memory_budget_bytes == 0) options.memory_budget_bytes = 64ull << 20;
    hooks.files = &files_;
    hooks.wrap_pool = [this](std::unique_ptr<MemoryPool> base) {
      auto pool = std::make_unique<FaultyPool>(std::move(base), [this](std::uint64_t bytes, std::string_view owner) {
        std::lock_guard<std::mutex> lock(mu_);
        return allocation_fault_ && allocation_fault_(bytes, owner);
      });
      pool_ = pool.get();
      return pool;
    };
    hooks.on_invariants = [this](const absl::Status& st) {
      if (st.ok()) return;
      std::lock_guard<std::mutex> lock(mu_);
      broken_.push_back(std::string(st.message()));
    };
    auto engine = CreateEngineForTest(std::move(options), std::move(hooks));
    REQUIRE(engine.ok());
    return *std::move(engine);
  }

  std::uint64_t PoolUsed() const { return pool_->Stats().used; }
  std::uint64_t PoolAllocations() const { return pool_->Stats().allocation_count; }
  std::uint64_t ReadFaults() const { return files_.faults_injected(); }
  std::uint64_t AllocationFaults() const { return pool_->faults_injected(); }
  // The core's invariant failures seen so far (must stay empty).
  std::vector<std::string> Broken() {
    std::lock_guard<std::mutex> lock(mu_);
    return broken_;
  }

 private:
  ReadFault DecideRead(const std::string& path, std::uint64_t offset, std::size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    return read_fault_ ? read_fault_(path, offset, size) : ReadFault{};
  }

  std::mutex mu_;
  ReadFaultFn read_fault_;              // guarded
  AllocationFaultFn allocation_fault_;  // guarded
  std::vector<std::string> broken_;     // guarded
  FaultyFileSource files_{PosixFileSource(),
                          [this](const std::string& p, std::uint64_t o, std::size_t n) { return DecideRead(p, o, n); }};
  FaultyPool* pool_ = nullptr;  // owned by the engine
};

// A request that runs to its end on `model`, `tokens` tokens; its id.
inline RequestId ExpectServes(Engine& engine, Recorder& rec, const std::string& model, int tokens = 3) {
  auto id = engine.Submit({.model = model, .prompt = "abc", .max_tokens = tokens}, rec.Callbacks());
  REQUIRE(id.ok());
  const RequestResult r = rec.Wait(*id);
  CHECK(r.status.ok());
  CHECK(r.usage.completion_tokens > 0);
  return *id;
}

}  // namespace cace::testing

#endif  // CACE_TESTS_RELIABILITY_FAULT_HARNESS_H_
