#include "lib/engine/output_stream.h"

#include <algorithm>
#include <utility>

namespace cace {

OutputStream::OutputStream(const Tokenizer& tokenizer, std::vector<std::string> stops)
    : decoder_(tokenizer), stops_(std::move(stops)) {}

bool OutputStream::CutAtStop() {
  std::size_t earliest = std::string::npos;
  for (const std::string& stop : stops_) earliest = std::min(earliest, held_.find(stop));
  if (earliest == std::string::npos) return false;
  held_.resize(earliest);
  return true;
}

std::size_t OutputStream::HeldBackLength() const {
  // held_ is whole UTF-8 characters and a stop string starts with one, so a suffix that matches a
  // stop's beginning starts on a character boundary.
  std::size_t longest = 0;
  for (const std::string& stop : stops_) {
    for (std::size_t n = std::min(stop.size() - 1, held_.size()); n > longest; --n) {
      if (held_.compare(held_.size() - n, n, stop, 0, n) == 0) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

absl::StatusOr<std::string> OutputStream::Push(std::int32_t id, bool* stopped) {
  absl::StatusOr<std::string> piece = decoder_.Push(id);
  if (!piece.ok()) return piece.status();
  held_ += *piece;
  *stopped = CutAtStop();
  const std::size_t keep = *stopped ? 0 : HeldBackLength();
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  text_ += out;
  return out;
}

std::string OutputStream::Finish() {
  held_ += decoder_.Finish();
  CutAtStop();
  std::string out = std::move(held_);
  held_.clear();
  text_ += out;
  return out;
}

}  // namespace cace
