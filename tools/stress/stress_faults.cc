#include "tools/stress/stress_faults.h"

namespace cace::stress {

double StressFaults::Draw() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_);
}

void StressFaults::LoadStarting() {
  reads_ = 0;
  fail_at_read_ = 0;
  if (!on_ || Draw() >= load_fail_rate_) return;
  // A tiny model's weights are a dozen or more reads (one per tensor): reads 1..4 are all mid-load.
  fail_at_read_ = 1 + static_cast<int>(Draw() * 4);
  truncate_ = loads_doomed_ % 2 == 1;
  ++loads_doomed_;
}

ReadFault StressFaults::Read() {
  if (stall_seconds_ > 0) {
    const auto stall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(stall_seconds_));
    stall_seconds_ = 0;
    return {.delay = stall};
  }
  if (fail_at_read_ == 0 || ++reads_ != fail_at_read_) return {};
  return {.kind = truncate_ ? ReadFault::Kind::kEndOfFile : ReadFault::Kind::kError};
}

bool StressFaults::RefuseAllocation(std::string_view owner) {
  if (!on_ || kv_fail_rate_ <= 0 || owner.substr(0, 3) != "kv:") return false;
  if (Draw() >= kv_fail_rate_) return false;
  ++allocations_refused_;
  return true;
}

}  // namespace cace::stress
