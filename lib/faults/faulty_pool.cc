#include "lib/faults/faulty_pool.h"

#include "absl/strings/str_cat.h"

namespace cace {

absl::StatusOr<Allocation> FaultyPool::Allocate(std::uint64_t bytes, std::uint64_t alignment, std::string_view owner) {
  if (fail_ && fail_(bytes, owner)) {
    ++faults_;
    return absl::ResourceExhaustedError(absl::StrCat("injected allocation failure: ", bytes, " bytes for '", std::string(owner), "'"));
  }
  absl::StatusOr<Allocation> a = base_->Allocate(bytes, alignment, owner);
  if (a.ok()) {
    // Another thread's allocation may land between the two reads; each records its own view, so
    // the maximum over all of them is the peak.
    const std::uint64_t used = base_->Stats().used;
    std::uint64_t peak = peak_used_.load();
    while (used > peak && !peak_used_.compare_exchange_weak(peak, used)) {
    }
  }
  return a;
}

}  // namespace cace
