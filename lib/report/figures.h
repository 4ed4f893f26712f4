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

}  // namespace cace

#endif  // CACE_LIB_REPORT_FIGURES_H_
