// How figures across seeds read on a terminal: the block after the single-scenario table, and the
// pieces the sweep's rows share with it.
#ifndef CACE_LIB_SIM_SEED_SUMMARY_TABLE_H_
#define CACE_LIB_SIM_SEED_SUMMARY_TABLE_H_

#include <cstdint>
#include <span>
#include <string>

#include "lib/sim/seed_summary.h"

namespace cace {

// The range of the per-seed TTFT ratios, "0.812-1.104", or "-" when a ratio is absent.
std::string TtftRatioRangeText(const SeedSummary& summary);

// "Across seeds S..S+N-1 (geometric mean of per-seed ratios to <baseline>)", then one row per
// policy: TTFT x, its range, E2E x, evictions x, seeds won on mean TTFT out of N, and the mean
// TTFT in seconds. The summaries all cover the same N seeds; no summary, no block (empty).
std::string FormatSeedSummary(std::span<const SeedSummary> summaries, std::uint64_t first_seed,
                              const std::string& baseline);

}  // namespace cace

#endif  // CACE_LIB_SIM_SEED_SUMMARY_TABLE_H_
