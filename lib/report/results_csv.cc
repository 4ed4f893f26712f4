#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "lib/report/replay_report.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "lib/report/figures.h"
#include "lib/report/text_file.h"

namespace cace {
namespace {

// RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled.
std::string Field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Same forms as the JSON; an absent figure is an empty field.
std::string Number(double value) { return std::isfinite(value) ? fmt::format("{}", value) : ""; }

// The columns, named like the JSON fields they mirror (nested names joined by '_').
std::vector<std::string> Header() {
  std::vector<std::string> names = {"policy", "requests"};
  const auto add_stats = [&names](std::string_view prefix) {
    for (std::string_view field : {"count", "mean", "p50", "p95", "p99"}) {
      names.push_back(fmt::format("{}_{}", prefix, field));
    }
  };
  add_stats("ttft");
  add_stats("e2e");
  for (TaskKind kind : kAllTaskKinds) add_stats(fmt::format("ttft_{}", TaskKindName(kind)));
  for (TaskKind kind : kAllTaskKinds) add_stats(fmt::format("e2e_{}", TaskKindName(kind)));
  for (std::string_view name :
       {"evictions", "loads", "bytes_loaded", "load_seconds", "memory_utilization"}) {
    names.emplace_back(name);
  }
  add_stats("admission_wait");
  names.emplace_back("drains");
  names.emplace_back("drain_wait_seconds");
  names.emplace_back("rejected");
  names.emplace_back("simulated_seconds");
  for (std::string_view name : {"host_cache_loads", "host_cache_bytes_loaded", "host_cache_drops",
                                "prefetches", "prefetches_used", "prefetches_cancelled"}) {
    names.emplace_back(name);
  }
  for (TaskKind kind : kAllTaskKinds) {
    names.push_back(fmt::format("slo_attainment_{}", TaskKindName(kind)));
  }
  names.emplace_back("replay_wall_seconds");
  return names;
}

std::vector<std::string> Line(const PolicyResult& r) {
  std::vector<std::string> cells = {Field(r.policy), fmt::format("{}", r.requests)};
  const auto add_stats = [&cells](const LatencyStats& s) {
    cells.push_back(fmt::format("{}", s.count));
    for (auto field :
         {&LatencyStats::mean, &LatencyStats::p50, &LatencyStats::p95, &LatencyStats::p99}) {
      cells.push_back(Number(StatOrNaN(s, field)));
    }
  };
  add_stats(r.ttft);
  add_stats(r.e2e);
  for (const LatencyStats& s : r.ttft_by_kind) add_stats(s);
  for (const LatencyStats& s : r.e2e_by_kind) add_stats(s);
  cells.push_back(fmt::format("{}", r.evictions));
  cells.push_back(fmt::format("{}", r.loads));
  cells.push_back(fmt::format("{}", r.bytes_loaded));
  cells.push_back(Number(r.load_seconds));
  cells.push_back(Number(r.memory_utilization));
  add_stats(r.admission_wait);
  cells.push_back(fmt::format("{}", r.drains));
  cells.push_back(Number(r.drain_wait_seconds));
  cells.push_back(fmt::format("{}", r.rejected));
  cells.push_back(Number(r.simulated_seconds));
  for (std::uint64_t count : {r.host_cache_loads, r.host_cache_bytes_loaded, r.host_cache_drops,
                              r.prefetches, r.prefetches_used, r.prefetches_cancelled}) {
    cells.push_back(fmt::format("{}", count));
  }
  for (TaskKind kind : kAllTaskKinds) {
    const int k = KindIndex(kind);
    cells.push_back(r.ttft_by_kind[k].count > 0 ? Number(r.slo_attainment[k]) : "");
  }
  cells.push_back(Number(r.replay_wall_seconds));
  return cells;
}

}  // namespace

absl::Status WriteResultsCsv(const std::string& path, std::span<const PolicyResult> results) {
  std::string csv = fmt::format("{}\n", fmt::join(Header(), ","));
  for (const PolicyResult& result : results) {
    csv += fmt::format("{}\n", fmt::join(Line(result), ","));
  }
  return WriteTextFile(path, csv, "results CSV");
}

}  // namespace cace
