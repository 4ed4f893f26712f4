// Picks the next token from a row of logits: greedy, or a seeded draw after temperature, top-k and
// top-p (nucleus) filtering. The same seed and logits give the same tokens on every platform (the
// generator and the uniform draw are written here, not taken from <random>'s distributions).
#ifndef CACE_LIB_RUNTIME_SAMPLER_H_
#define CACE_LIB_RUNTIME_SAMPLER_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cace {

struct SamplingOptions {
  float temperature = 0.0f;  // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;             // keep the k most likely tokens; 0: all
  float top_p = 1.0f;        // keep the smallest set whose probability reaches p; 1: all
  std::uint64_t seed = 0;
};

// InvalidArgument naming the field for a negative temperature or top_k, or top_p outside (0, 1].
absl::Status ValidateSamplingOptions(const SamplingOptions& options);

class Sampler {
 public:
  // Options must be valid (see ValidateSamplingOptions).
  explicit Sampler(const SamplingOptions& options);

  // The chosen token id; logits must hold at least one value.
  std::int32_t Sample(std::span<const float> logits);

  // A uniform value in [0, 1) from the sampler's stream (splitmix64), exposed for tests.
  double NextUniform();

 private:
  SamplingOptions options_;
  std::uint64_t state_;
  std::vector<std::pair<float, std::int32_t>> candidates_;  // scratch: (probability, id)
};

// argmax with the lowest id on ties.
std::int32_t Argmax(std::span<const float> logits);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_SAMPLER_H_
