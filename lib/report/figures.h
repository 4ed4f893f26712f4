// Figures derived from PolicyResults that every output shows the same way: which policy is the
// baseline or the oracle, and which figures are compared as ratios.
#ifndef CACE_LIB_REPORT_FIGURES_H_
#define CACE_LIB_REPORT_FIGURES_H_

#include <span>
#include <string>
#include <string_view>

#include "lib/report/replay_report.h"

namespace cace {

// The policy named "oracle" (the offline bound), when a replay ran it.
inline constexpr std::string_view kOraclePolicyName = "oracle";

// The physical floor: the same trace with memory for every model (each model loads once), the
// least any eviction policy could cost.
inline constexpr std::string_view kFloorPolicyName = "floor";

// The share of the baseline's swap penalty a policy leaves: (value - floor) / (base - floor);
// 0 is the floor, 1 the baseline. NaN when a figure is absent or base is not above the floor.
double PenaltyLeft(double value, double floor, double base);

// Decimal gigabytes, as the table and docs state ("GB" = 10^9 bytes).
inline constexpr double kBytesPerGB = 1e9;

// First result of policy `name`, or null.
const PolicyResult* FindPolicy(std::span<const PolicyResult> results, std::string_view name);

// A latency figure, or NaN when no request contributed to it (count 0): an absent figure must
// not read as 0 s.
double StatOrNaN(const LatencyStats& stats, double LatencyStats::*field);

// `value` with `decimals` decimals, or "-" when it is absent (NaN or infinite): the way every
// table shows a figure.
std::string FigureText(double value, int decimals);

// value / base; NaN when either is NaN or infinite, or base is not positive (no meaningful ratio).
double Ratio(double value, double base);

// One figure compared with the baseline (and the oracle): its JSON key, its table label, and
// how to read it from a result (NaN when absent).
struct RatioFigure {
  std::string_view key;
  std::string_view label;
  double (*value)(const PolicyResult&);
};
std::span<const RatioFigure> RatioFigures();

// Mean TTFT of completion requests (NaN when there were none).
double CompletionTtftMean(const PolicyResult& result);

}  // namespace cace

#endif  // CACE_LIB_REPORT_FIGURES_H_
