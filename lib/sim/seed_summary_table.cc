#include "lib/sim/seed_summary_table.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "fmt/format.h"
#include "lib/report/figures.h"

namespace cace {

std::string TtftRatioRangeText(const SeedSummary& summary) {
  if (!std::isfinite(summary.ttft_ratio_min) || !std::isfinite(summary.ttft_ratio_max)) return "-";
  return fmt::format("{:.3f}-{:.3f}", summary.ttft_ratio_min, summary.ttft_ratio_max);
}

std::string FormatSeedSummary(std::span<const SeedSummary> summaries, std::uint64_t first_seed,
                              const std::string& baseline) {
  if (summaries.empty()) return "";
  const int seeds = summaries.front().seeds;
  std::size_t name_width = std::string_view("policy").size();
  for (const SeedSummary& s : summaries) name_width = std::max(name_width, s.policy.size());
  std::string out =
      fmt::format("\nAcross seeds {}..{} (geometric mean of per-seed ratios to {})\n", first_seed,
                  first_seed + static_cast<std::uint64_t>(seeds) - 1, baseline);
  const std::string header = fmt::format(
      "{:<{}}  {:>7}  {:>12}  {:>7}  {:>8}  {:>7}  {:>7}  {:>9}  {:>11}  {:>10}  {:>8}", "policy",
      name_width, "TTFT x", "TTFT x range", "p95 x", "compl x", "E2E x", "evict x", "TTFT wins",
      "TTFT mean s", "compl s", "penalty");
  out += fmt::format("{}\n{}\n", header, std::string(header.size(), '-'));
  for (const SeedSummary& s : summaries) {
    out += fmt::format(
        "{:<{}}  {:>7}  {:>12}  {:>7}  {:>8}  {:>7}  {:>7}  {:>9}  {:>11}  {:>10}  {:>8}\n",
        s.policy, name_width, FigureText(s.ttft_ratio, 3), TtftRatioRangeText(s),
        FigureText(s.ttft_p95_ratio, 3), FigureText(s.completion_ttft_ratio, 3),
        FigureText(s.e2e_ratio, 3), FigureText(s.evictions_ratio, 3),
        fmt::format("{}/{}", s.ttft_wins, s.seeds), FigureText(s.ttft_mean, 3),
        FigureText(s.completion_ttft_mean, 3), FigureText(s.ttft_penalty_left, 3));
  }
  out += fmt::format(
      "(p95 x, compl x: TTFT p95 and completion mean TTFT; TTFT wins: seeds in which the "
      "policy's mean TTFT is below {}'s; penalty: mean over seeds of (TTFT - floor) / ({} - "
      "floor), the share of {}'s swap penalty left)\n",
      baseline, baseline, baseline);
  return out;
}

}  // namespace cace
