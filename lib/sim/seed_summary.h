// The same policies replayed with several seeds of the model-assignment rule, summarized per
// policy. In an overloaded scenario one seed is one trajectory: a policy's mean TTFT moves by 2x
// between seeds, so a comparison is worth trusting only when it holds across them.
#ifndef CACE_LIB_SIM_SEED_SUMMARY_H_
#define CACE_LIB_SIM_SEED_SUMMARY_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/report/replay_report.h"

namespace cace {

// One policy across seeds. Absent figures are NaN: a mean when some seed had no request to
// measure, a ratio when some seed's baseline figure is 0 or absent (no ratio is defined there).
struct SeedSummary {
  std::string policy;
  int seeds = 0;
  // Means over seeds of the per-seed figures (seconds; evictions as a count).
  double ttft_mean = 0;
  double ttft_p95 = 0;
  double e2e_mean = 0;
  double evictions = 0;
  double completion_ttft_mean = 0;
  // Mean over seeds of (mean TTFT - the floor's) / (the baseline's - the floor's) in each seed:
  // the share of the baseline's swap penalty left. NaN without a policy named "floor" (or where a
  // seed's baseline is not above its floor).
  double ttft_penalty_left = 0;
  // Geometric means over seeds of (figure / the baseline's figure in the same seed): ratios are
  // multiplicative, so 0.5 in one seed and 2.0 in another average to 1.0, not 1.25.
  double ttft_ratio = 0;
  double ttft_p95_ratio = 0;
  double completion_ttft_ratio = 0;
  double e2e_ratio = 0;
  double evictions_ratio = 0;
  // The smallest and largest per-seed TTFT ratio.
  double ttft_ratio_min = 0;
  double ttft_ratio_max = 0;
  // Seeds in which this policy's mean TTFT is below the baseline's.
  int ttft_wins = 0;
};

// `per_seed[s]` holds every policy's result for seed s, the same policies in the same order in
// every seed. Returns one summary per policy, in that order. InvalidArgument when there is no seed
// or the policy lists differ; NotFound when `baseline` is not among the policies.
absl::StatusOr<std::vector<SeedSummary>> SummarizeSeeds(
    std::span<const std::vector<PolicyResult>> per_seed, std::string_view baseline);

// exp(mean(log x)) of positive figures; NaN when `values` is empty or holds a NaN, an infinity or
// a negative figure; 0 when one is 0.
double GeometricMean(std::span<const double> values);

}  // namespace cace

#endif  // CACE_LIB_SIM_SEED_SUMMARY_H_
