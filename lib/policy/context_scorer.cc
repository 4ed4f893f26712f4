#include "cace/context_scorer.h"

#include <algorithm>
#include <cmath>

namespace cace {

namespace {
constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;

// x^e without a pow() call for the exponents the defaults and the ablations use (a decision scores
// every candidate, so this sits on the hot path).
double Power(double x, double e) {
  if (e == 1.0) return x;
  if (e == 0.0) return 1.0;
  return std::pow(x, e);
}
}  // namespace

double CaceScorer::KeepValue(const ModelContext& context) const { return Score(context); }

void CaceScorer::KeepValues(std::span<const ModelContext> contexts, std::span<double> values) const {
  for (std::size_t i = 0; i < contexts.size(); ++i) values[i] = Score(contexts[i]);
}

inline double CaceScorer::Score(const ModelContext& c) const {
  const CaceWeights& w = weights_;
  double window_total = 0.0;
  for (std::uint32_t count : c.window_counts) window_total += count;

  // The formula in the header, rearranged so that a decision over many candidates pays for one
  // division each: sum_k a_k / d_k = (sum_k a_k * prod_{j != k} d_j) / prod_j d_j.
  PerKind<double> dilution;  // 1 + expected output / output_scale, per kind
  for (int k = 0; k < kTaskKindCount; ++k) {
    dilution[k] = 1.0 + c.expected_output_tokens[k] * inverse_output_scale_;
  }
  static_assert(kTaskKindCount == 3);
  const double d01 = dilution[0] * dilution[1], d02 = dilution[0] * dilution[2],
               d12 = dilution[1] * dilution[2];
  const double sensitivity_numerator =
      (c.window_counts[0] + w.kind_prior) * w.latency_sensitivity[0] * d12 +
      (c.window_counts[1] + w.kind_prior) * w.latency_sensitivity[1] * d02 +
      (c.window_counts[2] + w.kind_prior) * w.latency_sensitivity[2] * d01;
  const double mix_norm = window_total + kTaskKindCount * w.kind_prior;

  // demand * window_seconds, so the window's division joins the one below.
  const double demand_times_window =
      (w.base_demand + w.demand_weight * c.predicted_demand + w.queue_weight * c.queued_requests) *
          c.window_seconds +
      w.frequency_weight * window_total * c.horizon_seconds;
  const double cost = Power(std::max(c.load_seconds, 1e-6), w.load_exponent);
  const double size = Power(std::max(static_cast<double>(c.bytes), 1.0) / kBytesPerGiB, w.size_exponent);
  const double reload_cost = demand_times_window * cost * sensitivity_numerator /
                             (c.window_seconds * dilution[0] * d12 * mix_norm);
  const double drain_cost = w.drain_weight * c.drain_seconds * std::max(1, c.queue_window);
  return (reload_cost + drain_cost) / size;
}

double PaperScorer::KeepValue(const ModelContext& c) const {
  const double recency = 1.0 - 1.0 / (1.0 + std::log1p(std::max(c.idle_seconds, 0.0)));
  const double load = 1.0 / (1.0 + c.load_seconds / 100.0);
  const double upcoming = (c.first_queue_position < 0 || c.queue_window <= 0)
                              ? 1.0
                              : static_cast<double>(c.first_queue_position) / c.queue_window;
  double uses = 0.0, output = 0.0;
  for (int k = 0; k < kTaskKindCount; ++k) {
    uses += c.window_counts[k];
    output += c.window_counts[k] * c.expected_output_tokens[k];
  }
  // Mean expected output over the kinds that used it; with no recent use, the plain mean.
  if (uses > 0) {
    output /= uses;
  } else {
    output = 0.0;
    for (double o : c.expected_output_tokens) output += o / kTaskKindCount;
  }
  const double eviction_priority = recency + load + upcoming + weights_.output_weight * output;
  return -eviction_priority;
}

}  // namespace cace
