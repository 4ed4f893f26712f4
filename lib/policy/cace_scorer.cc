#include "cace/context_scorer.h"

#include <algorithm>
#include <cmath>

namespace cace {

namespace {
constexpr double kBytesPerGiB = 1024.0 * 1024.0 * 1024.0;

// What CaceScorer's ProfileTerms hold.
enum Term { kSensitivityNumerator, kSensitivityDenominator, kFrequencyDemand, kWindowSeconds };

// x^e without a pow() call for the exponents the defaults and the ablations use (a decision scores
// every candidate, so this sits on the hot path).
double Power(double x, double e) {
  if (e == 1.0) return x;
  if (e == 0.0) return 1.0;
  return std::pow(x, e);
}
}  // namespace

CaceScorer::CaceScorer(CaceWeights weights)
    : weights_(weights), inverse_output_scale_(1.0 / weights.output_scale) {}  // 0 if infinite

ProfileTerms CaceScorer::Terms(const UsageProfile& p) const {
  const CaceWeights& w = weights_;
  double window_total = 0.0;
  for (std::uint32_t count : p.window_counts) window_total += count;

  // The sensitivity of the header's formula as one fraction, so that a decision pays one division
  // for it: sum_k a_k / d_k = (sum_k a_k * prod_{j != k} d_j) / prod_j d_j.
  PerKind<double> dilution;  // 1 + expected output / output_scale, per kind
  for (int k = 0; k < kTaskKindCount; ++k) {
    dilution[k] = 1.0 + p.expected_output_tokens[k] * inverse_output_scale_;
  }
  static_assert(kTaskKindCount == 3);
  const double d01 = dilution[0] * dilution[1], d02 = dilution[0] * dilution[2],
               d12 = dilution[1] * dilution[2];
  const double sensitivity_numerator =
      (p.window_counts[0] + w.kind_prior) * w.latency_sensitivity[0] * d12 +
      (p.window_counts[1] + w.kind_prior) * w.latency_sensitivity[1] * d02 +
      (p.window_counts[2] + w.kind_prior) * w.latency_sensitivity[2] * d01;
  const double mix_norm = window_total + kTaskKindCount * w.kind_prior;
  ProfileTerms terms;
  terms[kSensitivityNumerator] = sensitivity_numerator;
  // The window's length joins this denominator: Finish scales demand by it.
  terms[kSensitivityDenominator] = p.window_seconds * dilution[0] * d12 * mix_norm;
  terms[kFrequencyDemand] = w.frequency_weight * window_total * p.horizon_seconds;
  terms[kWindowSeconds] = p.window_seconds;
  return terms;
}

inline double CaceScorer::Finish(const ProfileTerms& terms, double predicted_demand,
                                 int queued_requests, std::uint64_t bytes, Seconds load_seconds,
                                 Seconds drain_seconds, int queue_window) const {
  const CaceWeights& w = weights_;
  // demand * window_seconds, so the window's division joins the sensitivity's.
  const double demand_times_window =
      (w.base_demand + w.demand_weight * predicted_demand + w.queue_weight * queued_requests) *
          terms[kWindowSeconds] +
      terms[kFrequencyDemand];
  const double cost = Power(std::max(load_seconds, 1e-6), w.load_exponent);
  const double size = Power(std::max(static_cast<double>(bytes), 1.0) / kBytesPerGiB, w.size_exponent);
  const double reload_cost =
      demand_times_window * cost * terms[kSensitivityNumerator] / terms[kSensitivityDenominator];
  const double drain_cost = w.drain_weight * drain_seconds * std::max(1, queue_window);
  return (reload_cost + drain_cost) / size;
}

double CaceScorer::KeepValue(const ModelContext& c) const {
  return Finish(Terms(c.usage()), c.predicted_demand, c.queued_requests, c.bytes, c.load_seconds,
                c.drain_seconds, c.queue_window);
}

void CaceScorer::KeepValues(const CandidateBatch& batch, std::span<double> values) const {
  for (std::size_t i = 0; i < batch.candidates.size(); ++i) {
    const Candidate& c = batch.candidates[i];
    values[i] = Finish(batch.terms[c.model], batch.predicted_demand[i],
                       batch.queued_requests[c.model], c.bytes, c.load_seconds, c.drain_seconds,
                       batch.queue_window);
  }
}

}  // namespace cace
