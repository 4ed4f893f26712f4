// Synthetic traffic shaped like the Azure LLM inference traces of 2023 (see shared/traces).
#include <algorithm>
#include <cmath>

#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/random.h"

namespace cace {
namespace {

// Streams under the run's seed; the assignment's own streams start at 0x100.
constexpr std::uint64_t kArrivalStream = 0x10;

// Log-normal token counts: the median and the standard deviation of ln(count) measured on the
// Azure 2023 traces (code: 8,819 requests; conversation: 19,366), clamped to about the largest
// counts seen there so a far tail never asks for a context no model has.
struct LengthModel {
  double median;
  double sigma;
  double max;
};
struct ClassShape {
  LengthModel prompt;
  LengthModel output;
};
constexpr ClassShape kCompletionShape = {{1469, 1.36, 8192}, {13, 0.85, 2048}};
constexpr ClassShape kConversationShape = {{1020, 0.99, 16384}, {129, 0.86, 2048}};

// More requests than this from one call is a mistake in the options, not a workload.
constexpr double kMaxRequests = 1e8;

std::uint32_t Tokens(Rng& rng, const LengthModel& model) {
  const double value = std::round(rng.LogNormal(model.median, model.sigma));
  return static_cast<std::uint32_t>(std::clamp(value, 1.0, model.max));
}

// A Gamma renewal process on [0, duration): gaps of mean 1/rate with coefficient of variation
// cv, i.e. shape 1/cv^2 (cv 1: Poisson; larger: bursts separated by long quiet spells).
std::vector<RawRequest> Generate(Rng& rng, Seconds duration, double rate, double cv,
                                 const ClassShape& shape) {
  std::vector<RawRequest> requests;
  if (rate == 0) return requests;
  const double gamma_shape = 1 / (cv * cv);
  const double gamma_scale = 1 / (rate * gamma_shape);
  requests.reserve(static_cast<std::size_t>(rate * duration * 1.1) + 16);
  Seconds time = 0;
  while (true) {
    time += rng.Gamma(gamma_shape) * gamma_scale;
    if (time >= duration) break;
    RawRequest request;
    request.arrival = time;
    request.prompt_tokens = Tokens(rng, shape.prompt);
    request.output_tokens = Tokens(rng, shape.output);
    requests.push_back(request);
  }
  return requests;
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> GenerateSynthetic(std::span<const FleetModel> fleet,
                                                            const SyntheticOptions& options) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("synthetic options: {}", what));
  };
  if (!std::isfinite(options.duration) || options.duration <= 0) return bad("duration must be > 0");
  for (double rate : {options.completion_rate, options.conversation_rate}) {
    if (!std::isfinite(rate) || rate < 0) return bad("rates must be >= 0");
    if (rate * options.duration > kMaxRequests) {
      return bad(fmt::format("rate x duration asks for more than {} requests", kMaxRequests));
    }
  }
  for (double cv : {options.completion_cv, options.conversation_cv}) {
    // Below 0.01 the Gamma shape passes 10^4: the gaps are then as regular as a clock anyway.
    if (!std::isfinite(cv) || cv < 0.01 || cv > 100) return bad("cv must be in [0.01, 100]");
  }
  Rng completion_rng(StreamSeed(options.assignment.seed, kArrivalStream));
  Rng conversation_rng(StreamSeed(options.assignment.seed, kArrivalStream + 1));
  std::vector<RawRequest> completion =
      Generate(completion_rng, options.duration, options.completion_rate, options.completion_cv,
               kCompletionShape);
  std::vector<RawRequest> conversation =
      Generate(conversation_rng, options.duration, options.conversation_rate,
               options.conversation_cv, kConversationShape);
  return AssignModels(completion, conversation, fleet, options.assignment);
}

}  // namespace cace
