#include "tools/stress/stress_ledger.h"

#include "absl/strings/str_cat.h"

namespace cace::stress {
namespace {

constexpr int kCodes = 20;  // absl::StatusCode values are 0..16

int CodeIndex(const absl::Status& s) {
  const int c = static_cast<int>(s.code());
  return c >= 0 && c < kCodes ? c : kCodes - 1;
}

std::string CodeName(int code) { return absl::StatusCodeToString(static_cast<absl::StatusCode>(code)); }

}  // namespace

StressLedger::StressLedger(std::size_t requests) : slots_(new Slot[requests]), size_(requests) {}

double StressLedger::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void StressLedger::Submitted(std::size_t slot) {
  slots_[slot].last_progress = Now();
  slots_[slot].submitted = true;
}

void StressLedger::Refused(std::size_t slot, const absl::Status& why) {
  slots_[slot].refused = true;
  ++refused_codes_[CodeIndex(why)];
}

void StressLedger::Accepted(std::size_t slot) { slots_[slot].accepted = true; }

void StressLedger::Token(std::size_t slot) { slots_[slot].last_progress = Now(); }

void StressLedger::Done(std::size_t slot, const absl::Status& status) {
  Slot& s = slots_[slot];
  s.code = CodeIndex(status);
  s.has_reason = status.ok() || !status.message().empty();
  s.last_progress = Now();
  ++s.done;
}

void StressLedger::LoadStarted(const std::string& model) {
  std::lock_guard<std::mutex> lock(load_mu_);
  loading_ = model;
  load_progress_ = Now();
}

void StressLedger::LoadRead() {
  std::lock_guard<std::mutex> lock(load_mu_);
  load_progress_ = Now();
}

void StressLedger::LoadEnded(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(load_mu_);
  loading_.clear();
  ++(status.ok() ? loads_ok_ : loads_failed_);
}

std::string StressLedger::Stalled(double seconds) const {
  const double now = Now();
  {
    std::lock_guard<std::mutex> lock(load_mu_);
    if (!loading_.empty() && now - load_progress_ > seconds) {
      return absl::StrCat("the load of ", loading_, " made no progress for ", now - load_progress_, " s");
    }
  }
  // A request counts from its Submit: one whose Submit has not returned yet is still the host's.
  for (std::size_t i = 0; i < size_; ++i) {
    const Slot& s = slots_[i];
    if (!s.accepted || s.done > 0) continue;
    const double silent = now - s.last_progress;
    if (silent > seconds) return absl::StrCat("request slot ", i, " made no progress for ", silent, " s");
  }
  return "";
}

StressLedger::Totals StressLedger::Tally() const {
  Totals t;
  for (std::size_t i = 0; i < size_; ++i) {
    const Slot& s = slots_[i];
    if (!s.submitted) continue;
    ++t.submitted;
    if (s.refused) {
      ++t.refused;
      continue;
    }
    if (!s.accepted) continue;
    ++t.accepted;
    const int done = s.done;
    if (done == 0) {
      ++t.lost;
      continue;
    }
    if (done > 1) ++t.ended_twice;
    if (s.code == 0) {
      ++t.completed;
    } else {
      ++t.failed;
      ++t.failures_by_code[CodeName(s.code)];
      if (!s.has_reason) ++t.failed_without_reason;
    }
  }
  for (int c = 0; c < kCodes; ++c) {
    if (refused_codes_[c] > 0) t.refusals_by_code[CodeName(c)] = refused_codes_[c];
  }
  std::lock_guard<std::mutex> lock(load_mu_);
  t.loads_ok = loads_ok_;
  t.loads_failed = loads_failed_;
  return t;
}

}  // namespace cace::stress
