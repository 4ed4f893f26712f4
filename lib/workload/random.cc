#include "lib/workload/random.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cace {

std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Rng::Uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Rng::UniformPositive() { return 1.0 - Uniform(); }

std::size_t Rng::Index(std::size_t n) {
  // Reject the top sliver of the 64-bit range that n does not divide evenly.
  const std::uint64_t range = static_cast<std::uint64_t>(n);
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t draw = 0;
  do {
    draw = engine_();
  } while (draw >= limit);
  return static_cast<std::size_t>(draw % range);
}

double Rng::Normal() {
  while (true) {
    const double u = 2 * Uniform() - 1;
    const double v = 2 * Uniform() - 1;
    const double s = u * u + v * v;
    if (s > 0 && s < 1) return u * std::sqrt(-2 * std::log(s) / s);
  }
}

double Rng::Gamma(double shape) {
  if (shape < 1) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a), in logs: U^(1/a) underflows for the tiny shapes of
    // very bursty traffic (CV 13 gives a = 1/169) and exp() then gives an exact 0, a burst.
    return std::exp(std::log(Gamma(shape + 1)) + std::log(UniformPositive()) / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9 * d);
  while (true) {
    const double x = Normal();
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = UniformPositive();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

double Rng::LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }

std::uint64_t Rng::Geometric(double mean) {
  if (mean <= 1) return 1;
  // Inversion: 1 + floor(ln U / ln(1 - p)) with success probability p = 1 / mean.
  const double trials = std::floor(std::log(UniformPositive()) / std::log1p(-1 / mean));
  return 1 + static_cast<std::uint64_t>(std::min(trials, 1e18));
}

ZipfTable::ZipfTable(std::size_t n, double s) : cumulative_(n) {
  double total = 0;
  for (std::size_t k = 0; k < n; ++k) {
    total += std::pow(static_cast<double>(k + 1), -s);
    cumulative_[k] = total;
  }
}

std::size_t ZipfTable::Sample(Rng& rng) const {
  const double target = rng.Uniform() * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
  return std::min(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

double ZipfTable::Probability(std::size_t rank) const {
  const double below = rank == 0 ? 0 : cumulative_[rank - 1];
  return (cumulative_[rank] - below) / cumulative_.back();
}

}  // namespace cace
