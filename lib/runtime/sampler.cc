#include "lib/runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace cace {

absl::Status ValidateSamplingOptions(const SamplingOptions& o) {
  if (!(o.temperature >= 0.0f) || std::isinf(o.temperature)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling: temperature = ", o.temperature, " must be finite and >= 0"));
  }
  if (o.top_k < 0) return absl::InvalidArgumentError(absl::StrCat("sampling: top_k = ", o.top_k, " must be >= 0"));
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling: top_p = ", o.top_p, " must be in (0, 1]"));
  }
  return absl::OkStatus();
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), state_(options.seed) {}

double Sampler::NextUniform() {
  // splitmix64: a fixed, well-mixed 64-bit sequence from any seed.
  state_ += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::int32_t Argmax(std::span<const float> logits) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<std::int32_t>(best);
}

std::int32_t Sampler::Sample(std::span<const float> logits) {
  if (options_.temperature == 0.0f) return Argmax(logits);

  // Softmax of logits / temperature, over candidates sorted by probability (ties by id).
  const float max_logit = logits[static_cast<std::size_t>(Argmax(logits))];
  candidates_.clear();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    candidates_.emplace_back(std::exp((logits[i] - max_logit) / options_.temperature), static_cast<std::int32_t>(i));
  }
  const auto by_probability = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::size_t keep = candidates_.size();
  if (options_.top_k > 0 && static_cast<std::size_t>(options_.top_k) < keep) {
    keep = static_cast<std::size_t>(options_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep),
                      candidates_.end(), by_probability);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_probability);
  }
  double total = 0.0;
  for (std::size_t i = 0; i < keep; ++i) total += candidates_[i].first;
  if (options_.top_p < 1.0f) {
    // Smallest prefix whose mass reaches top_p (at least one token).
    double mass = 0.0;
    std::size_t n = 0;
    while (n < keep) {
      mass += candidates_[n].first / total;
      ++n;
      if (mass >= options_.top_p) break;
    }
    keep = n;
    total = 0.0;
    for (std::size_t i = 0; i < keep; ++i) total += candidates_[i].first;
  }
  const double target = NextUniform() * total;
  double acc = 0.0;
  for (std::size_t i = 0; i < keep; ++i) {
    acc += candidates_[i].first;
    if (target < acc) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace cace
