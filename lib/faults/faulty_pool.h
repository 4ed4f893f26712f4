// A MemoryPool in front of another that refuses the allocations a test (or cace_stress) picks,
// and records the peak of bytes held: the "allocation that fails" of issue 13 and the stress run's
// "peak memory against the budget", through the pool interface the engine already takes.
#ifndef CACE_LIB_FAULTS_FAULTY_POOL_H_
#define CACE_LIB_FAULTS_FAULTY_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "cace/memory_pool.h"

namespace cace {

// True: refuse this allocation (ResourceExhausted "injected allocation failure"). Called on the
// allocating thread (load worker for weights, compute worker for KV caches); must be thread-safe.
using AllocationFaultFn = std::function<bool(std::uint64_t bytes, std::string_view owner)>;

class FaultyPool final : public MemoryPool {
 public:
  // `fail` may be empty: nothing refused, only the peak recorded.
  FaultyPool(std::unique_ptr<MemoryPool> base, AllocationFaultFn fail)
      : base_(std::move(base)), fail_(std::move(fail)) {}

  std::uint64_t peak_used() const { return peak_used_.load(); }  // Stats().used at its highest
  std::uint64_t faults_injected() const { return faults_.load(); }

  MemoryKind kind() const override { return base_->kind(); }
  absl::StatusOr<Allocation> Allocate(std::uint64_t bytes, std::uint64_t alignment, std::string_view owner) override;
  absl::Status Free(AllocationId id) override { return base_->Free(id); }
  absl::StatusOr<Allocation> Lookup(AllocationId id) const override { return base_->Lookup(id); }
  std::vector<Allocation> Allocations() const override { return base_->Allocations(); }
  PoolStats Stats() const override { return base_->Stats(); }
  bool CanFit(std::uint64_t bytes, std::uint64_t alignment) const override { return base_->CanFit(bytes, alignment); }
  bool CanFitAfterCompaction(std::uint64_t bytes, std::uint64_t alignment) const override {
    return base_->CanFitAfterCompaction(bytes, alignment);
  }
  absl::Status Compact(const RelocationCallback& on_move) override { return base_->Compact(on_move); }
  absl::StatusOr<void*> Address(AllocationId id) const override { return base_->Address(id); }
  absl::Status Write(AllocationId id, std::uint64_t offset, const void* src, std::uint64_t bytes) override {
    return base_->Write(id, offset, src, bytes);
  }
  absl::Status Read(AllocationId id, std::uint64_t offset, void* dst, std::uint64_t bytes) const override {
    return base_->Read(id, offset, dst, bytes);
  }

 private:
  const std::unique_ptr<MemoryPool> base_;
  const AllocationFaultFn fail_;
  std::atomic<std::uint64_t> peak_used_{0};
  std::atomic<std::uint64_t> faults_{0};
};

}  // namespace cace

#endif  // CACE_LIB_FAULTS_FAULTY_POOL_H_
