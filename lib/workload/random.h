// Seeded sampling that gives the same numbers with every standard library: only the engine
// (std::mt19937_64, whose output the standard fixes) comes from <random>; every distribution is
// written here, because std::*_distribution algorithms differ between libstdc++, libc++ and MSVC.
#ifndef CACE_LIB_WORKLOAD_RANDOM_H_
#define CACE_LIB_WORKLOAD_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace cace {

// An independent seed for one stream of a seeded run (splitmix64 of seed and stream), so that,
// for example, the conversation assignment does not shift when completion traffic changes.
std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t stream);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  double Uniform();          // [0, 1), 53 random bits
  double UniformPositive();  // (0, 1]
  std::size_t Index(std::size_t n);  // uniform in [0, n), unbiased; n > 0
  double Normal();           // standard normal (Marsaglia's polar method)
  double Gamma(double shape);  // shape > 0, scale 1 (Marsaglia and Tsang)
  double LogNormal(double median, double sigma);
  std::uint64_t Geometric(double mean);  // number of trials up to the first success, mean >= 1

 private:
  std::mt19937_64 engine_;
};

// Zipf over ranks 0..n-1: P(rank k) proportional to 1 / (k + 1)^s.
class ZipfTable {
 public:
  ZipfTable(std::size_t n, double s);
  std::size_t Sample(Rng& rng) const;
  double Probability(std::size_t rank) const;

 private:
  std::vector<double> cumulative_;  // cumulative_[k] = sum of weights of ranks 0..k
};

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_RANDOM_H_
