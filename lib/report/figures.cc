#include "lib/report/figures.h"

#include <array>
#include <cmath>
#include <limits>

#include "fmt/format.h"

namespace cace {

const PolicyResult* FindPolicy(std::span<const PolicyResult> results, std::string_view name) {
  for (const PolicyResult& result : results) {
    if (result.policy == name) return &result;
  }
  return nullptr;
}

double StatOrNaN(const LatencyStats& stats, double LatencyStats::*field) {
  return stats.count == 0 ? std::numeric_limits<double>::quiet_NaN() : stats.*field;
}

std::string FigureText(double value, int decimals) {
  return std::isfinite(value) ? fmt::format("{:.{}f}", value, decimals) : std::string("-");
}

double Ratio(double value, double base) {
  if (!std::isfinite(value) || !std::isfinite(base) || base <= 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return value / base;
}

double PenaltyLeft(double value, double floor, double base) {
  if (!std::isfinite(value) || !std::isfinite(floor) || !std::isfinite(base) || !(base > floor)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return (value - floor) / (base - floor);
}

double CompletionTtftMean(const PolicyResult& result) {
  return StatOrNaN(result.ttft_by_kind[KindIndex(TaskKind::kCompletion)], &LatencyStats::mean);
}

std::span<const RatioFigure> RatioFigures() {
  static constexpr std::array<RatioFigure, 6> kFigures = {{
      {"ttft_mean", "TTFT mean",
       [](const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::mean); }},
      {"ttft_p95", "TTFT p95",
       [](const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::p95); }},
      {"e2e_mean", "E2E mean",
       [](const PolicyResult& r) { return StatOrNaN(r.e2e, &LatencyStats::mean); }},
      {"e2e_p95", "E2E p95",
       [](const PolicyResult& r) { return StatOrNaN(r.e2e, &LatencyStats::p95); }},
      {"evictions", "evictions",
       [](const PolicyResult& r) { return static_cast<double>(r.evictions); }},
      {"bytes_loaded", "GB loaded",
       [](const PolicyResult& r) { return static_cast<double>(r.bytes_loaded); }},
  }};
  return kFigures;
}

}  // namespace cace
