#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/report/replay_report.h"
#include "fmt/format.h"
#include "lib/report/figures.h"

namespace cace {
namespace {

constexpr std::string_view kGap = "  ";
constexpr std::string_view kAbsent = "-";

// A column of a block; consecutive columns with the same non-empty `group` share a label above.
struct Column {
  std::string group;
  std::string header;
  std::size_t width;
};

struct Row {
  std::string name;
  std::vector<std::string> cells;
};

// A terminal only shows printable text in its place; a newline in a policy name would break rows.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

// A ratio in 5 characters and its change in at most 8 ("0.618", "-38.2 %"; "17.18",
// "+1618 %"), so the ratio columns line up even far from the reference.
std::string RatioText(double ratio) {
  if (!std::isfinite(ratio)) return std::string(kAbsent);
  return FigureText(ratio, ratio < 10 ? 3 : ratio < 100 ? 2 : ratio < 1000 ? 1 : 0);
}

std::string ChangeText(double ratio) {
  if (!std::isfinite(ratio)) return std::string(kAbsent);
  const double change = (ratio - 1) * 100;
  return fmt::format("{:+.{}f} %", change, std::abs(change) < 1000 ? 1 : 0);
}

std::string Stat(const LatencyStats& stats, double LatencyStats::*field, double scale,
                 int decimals) {
  return FigureText(StatOrNaN(stats, field) * scale, decimals);
}

void RenderGroups(std::string& out, std::size_t name_width, const std::vector<Column>& columns) {
  if (std::all_of(columns.begin(), columns.end(),
                  [](const Column& c) { return c.group.empty(); })) {
    return;
  }
  std::string line(name_width, ' ');
  for (std::size_t i = 0; i < columns.size();) {
    std::size_t span = columns[i].width;
    std::size_t j = i + 1;
    while (j < columns.size() && !columns[i].group.empty() &&
           columns[j].group == columns[i].group) {
      span += kGap.size() + columns[j].width;
      ++j;
    }
    line += kGap;
    if (columns[i].group.empty()) {
      line.append(span, ' ');
    } else {
      line += fmt::format("{:-^{}}", fmt::format(" {} ", columns[i].group), span);
    }
    i = j;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out += line;
  out += '\n';
}

void RenderBlock(std::string& out, std::string_view title, const std::vector<Column>& columns,
                 const std::vector<Row>& rows) {
  std::size_t name_width = std::string_view("policy").size();
  for (const Row& row : rows) name_width = std::max(name_width, row.name.size());
  out += fmt::format("\n{}\n", title);
  RenderGroups(out, name_width, columns);
  std::string header = fmt::format("{:<{}}", "policy", name_width);
  for (const Column& column : columns) {
    header += fmt::format("{}{:>{}}", kGap, column.header, column.width);
  }
  out += header;
  out += '\n';
  out += std::string(header.size(), '-');
  out += '\n';
  for (const Row& row : rows) {
    out += fmt::format("{:<{}}", row.name, name_width);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out += fmt::format("{}{:>{}}", kGap, row.cells[i], columns[i].width);
    }
    out += '\n';
  }
}

void RenderScenario(std::string& out, const ScenarioInfo& scenario) {
  out += fmt::format("Replay: {}\n", Printable(scenario.name));
  out += fmt::format("  accelerator: {}   memory budget: {:.2f} GB ({:.2f} GiB)\n",
                     Printable(scenario.accelerator), scenario.memory_budget_bytes / kBytesPerGB,
                     scenario.memory_budget_bytes / static_cast<double>(1ull << 30));
  out += fmt::format("  trace: {}\n", Printable(scenario.trace));
  out += fmt::format("  fleet: {}\n", Printable(scenario.fleet));
  out += fmt::format("  rate scale: {:g}   seed: {}\n", scenario.rate_scale, scenario.seed);
  out += "  TTFT SLO:";
  for (TaskKind kind : kAllTaskKinds) {
    out += fmt::format("{} {} {:g} s", kind == kAllTaskKinds.front() ? "" : ",", TaskKindName(kind),
                       scenario.slo_ttft_seconds[KindIndex(kind)]);
  }
  out += '\n';
  for (const std::string& note : scenario.notes) {
    out += fmt::format("  note: {}\n", Printable(note));
  }
}

void RenderLatency(std::string& out, std::span<const PolicyResult> results) {
  std::vector<Column> columns = {{"", "requests", 8}};
  for (const char* group : {"TTFT (ms)", "E2E (s)"}) {
    for (const char* header : {"mean", "p50", "p95", "p99"}) columns.push_back({group, header, 8});
  }
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    Row row{Printable(r.policy), {fmt::format("{}", r.requests)}};
    for (auto field :
         {&LatencyStats::mean, &LatencyStats::p50, &LatencyStats::p95, &LatencyStats::p99}) {
      row.cells.push_back(Stat(r.ttft, field, 1e3, 1));
    }
    for (auto field :
         {&LatencyStats::mean, &LatencyStats::p50, &LatencyStats::p95, &LatencyStats::p99}) {
      row.cells.push_back(Stat(r.e2e, field, 1, 2));
    }
    rows.push_back(std::move(row));
  }
  RenderBlock(out, "Latency: time to first token (TTFT) in ms, end to end (E2E) in s", columns,
              rows);
}

void RenderResources(std::string& out, std::span<const PolicyResult> results) {
  std::vector<Column> columns = {{"", "evictions", 9},
                                 {"", "loads", 7},
                                 {"", "GB loaded", 9},
                                 {"", "load s", 8},
                                 {"", "mem util %", 10}};
  for (TaskKind kind : kAllTaskKinds) {
    columns.push_back({"TTFT SLO met (%)", std::string(TaskKindName(kind)), 10});
  }
  columns.push_back({"", "replay s", 8});
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    Row row{Printable(r.policy),
            {fmt::format("{}", r.evictions), fmt::format("{}", r.loads),
             FigureText(static_cast<double>(r.bytes_loaded) / kBytesPerGB, 1),
             FigureText(r.load_seconds, 1), FigureText(r.memory_utilization * 100, 1)}};
    for (TaskKind kind : kAllTaskKinds) {
      // A kind no request had has no attainment to show.
      const bool seen = r.ttft_by_kind[KindIndex(kind)].count > 0;
      row.cells.push_back(seen ? FigureText(r.slo_attainment[KindIndex(kind)] * 100, 1)
                               : std::string(kAbsent));
    }
    row.cells.push_back(FigureText(r.replay_wall_seconds, 2));
    rows.push_back(std::move(row));
  }
  RenderBlock(out,
              "Loading, memory and SLO (GB = 10^9 bytes; load s = time the load path was busy)",
              columns, rows);
}

// Where TTFT goes: waiting to be admitted (for a load, a batch slot or KV room) against the rest,
// and the drains that keep loads waiting; in an overloaded scenario admission is nearly all of it.
void RenderWaiting(std::string& out, std::span<const PolicyResult> results) {
  const std::vector<Column> columns = {{"- admission wait -", "mean s", 9},
                                       {"- admission wait -", "p95 s", 9},
                                       {"", "% of TTFT", 9},
                                       {"", "drains", 7},
                                       {"", "drain wait s", 12},
                                       {"", "rejected", 8}};
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    const bool both = r.admission_wait.count > 0 && r.ttft.count > 0 && r.ttft.mean > 0;
    rows.push_back(Row{Printable(r.policy),
                       {Stat(r.admission_wait, &LatencyStats::mean, 1, 2),
                        Stat(r.admission_wait, &LatencyStats::p95, 1, 2),
                        both ? FigureText(r.admission_wait.mean / r.ttft.mean * 100, 1)
                             : std::string(kAbsent),
                        fmt::format("{}", r.drains), FigureText(r.drain_wait_seconds, 1),
                        fmt::format("{}", r.rejected)}});
  }
  RenderBlock(out,
              "Where TTFT goes (admission: arrival to joining a batch; drain wait: loads waiting "
              "on busy victims)",
              columns, rows);
}

// Where loads came from (the host cache of evicted weights or the disk) and what prefetch did;
// shown only when a replay had a host cache or prefetch.
void RenderTiers(std::string& out, std::span<const PolicyResult> results) {
  const bool any = std::any_of(results.begin(), results.end(), [](const PolicyResult& r) {
    return r.host_cache_loads + r.host_cache_drops + r.prefetches > 0;
  });
  if (!any) return;
  const std::vector<Column> columns = {{"loads", "host cache", 10},
                                       {"loads", "disk", 7},
                                       {"", "GB from cache", 13},
                                       {"", "cache drops", 11},
                                       {"prefetches", "started", 7},
                                       {"prefetches", "used", 6},
                                       {"prefetches", "cancelled", 9}};
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    rows.push_back(Row{Printable(r.policy),
                       {fmt::format("{}", r.host_cache_loads),
                        fmt::format("{}", r.loads - std::min(r.loads, r.host_cache_loads)),
                        FigureText(static_cast<double>(r.host_cache_bytes_loaded) / 1e9, 1),
                        fmt::format("{}", r.host_cache_drops), fmt::format("{}", r.prefetches),
                        fmt::format("{}", r.prefetches_used), fmt::format("{}", r.prefetches_cancelled)}});
  }
  RenderBlock(out,
              "Tiers and prefetch (loads from the host cache of evicted weights or the disk; "
              "prefetches used before their eviction, cancelled by a real request)",
              columns, rows);
}

// Every ratio figure of every policy against `reference`, as "0.618" and "-38.2 %".
void RenderRatios(std::string& out, std::string_view title, std::span<const PolicyResult> results,
                  const PolicyResult& reference) {
  std::vector<Column> columns;
  for (const RatioFigure& figure : RatioFigures()) {
    columns.push_back({std::string(figure.label), "ratio", 5});
    columns.push_back({std::string(figure.label), "change", 8});
  }
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    Row row{Printable(r.policy), {}};
    for (const RatioFigure& figure : RatioFigures()) {
      const double ratio = Ratio(figure.value(r), figure.value(reference));
      row.cells.push_back(RatioText(ratio));
      row.cells.push_back(ChangeText(ratio));
    }
    rows.push_back(std::move(row));
  }
  RenderBlock(out, title, columns, rows);
}

// How much of the baseline's swap penalty each policy leaves, against the physical floor (memory
// for every model). The oracle knows the future but minimises misses, not waiting: its row bounds
// loads, not latency.
void RenderPenaltyLeft(std::string& out, std::span<const PolicyResult> results,
                       const PolicyResult& floor, const PolicyResult& base,
                       std::string_view baseline) {
  struct Figure {
    std::string_view label;
    double (*value)(const PolicyResult&);
  };
  static constexpr Figure kFigures[] = {
      {"TTFT mean", [](const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::mean); }},
      {"TTFT p95", [](const PolicyResult& r) { return StatOrNaN(r.ttft, &LatencyStats::p95); }},
      {"compl TTFT", CompletionTtftMean},
      {"E2E mean", [](const PolicyResult& r) { return StatOrNaN(r.e2e, &LatencyStats::mean); }},
      {"evictions", [](const PolicyResult& r) { return static_cast<double>(r.evictions); }}};
  std::vector<Column> columns;
  for (const Figure& figure : kFigures) columns.push_back({"", std::string(figure.label), 10});
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    Row row{Printable(r.policy), {}};
    for (const Figure& figure : kFigures) {
      row.cells.push_back(
          FigureText(PenaltyLeft(figure.value(r), figure.value(floor), figure.value(base)), 3));
    }
    rows.push_back(std::move(row));
  }
  RenderBlock(out,
              fmt::format("Swap penalty left ((x - floor) / ({} - floor), floor = memory for every "
                          "model); the oracle bounds misses, not latency",
                          Printable(baseline)),
              columns, rows);
}

void RenderRejections(std::string& out, std::span<const PolicyResult> results) {
  for (const PolicyResult& r : results) {
    if (r.rejected == 0) continue;
    out += fmt::format("\nrejected by {}: {} requests that can never fit the memory; first: {}\n",
                       Printable(r.policy), r.rejected, Printable(r.rejection_reason));
  }
}

void RenderPerKind(std::string& out, std::span<const PolicyResult> results) {
  std::vector<Column> columns;
  for (TaskKind kind : kAllTaskKinds) {
    const std::string group(TaskKindName(kind));
    columns.push_back({group, "requests", 8});
    columns.push_back({group, "TTFT ms", 8});
    columns.push_back({group, "E2E s", 7});
  }
  std::vector<Row> rows;
  for (const PolicyResult& r : results) {
    Row row{Printable(r.policy), {}};
    for (TaskKind kind : kAllTaskKinds) {
      const int k = KindIndex(kind);
      row.cells.push_back(fmt::format("{}", r.ttft_by_kind[k].count));
      row.cells.push_back(Stat(r.ttft_by_kind[k], &LatencyStats::mean, 1e3, 1));
      row.cells.push_back(Stat(r.e2e_by_kind[k], &LatencyStats::mean, 1, 2));
    }
    rows.push_back(std::move(row));
  }
  RenderBlock(out, "Means per task kind", columns, rows);
}

}  // namespace

std::string FormatResultsTable(const ScenarioInfo& scenario, std::span<const PolicyResult> results,
                               const std::string& baseline) {
  std::string out;
  RenderScenario(out, scenario);
  if (results.empty()) {
    out += "\nno results\n";
    return out;
  }
  RenderLatency(out, results);
  RenderResources(out, results);
  RenderWaiting(out, results);
  RenderTiers(out, results);
  if (const PolicyResult* base = FindPolicy(results, baseline)) {
    RenderRatios(out,
                 fmt::format("Ratio to {} (value / {}; change: - is lower, i.e. better)",
                             Printable(baseline), Printable(baseline)),
                 results, *base);
  }
  const PolicyResult* floor = FindPolicy(results, kFloorPolicyName);
  const PolicyResult* base = FindPolicy(results, baseline);
  if (floor != nullptr && base != nullptr) RenderPenaltyLeft(out, results, *floor, *base, baseline);
  RenderPerKind(out, results);
  RenderRejections(out, results);
  if (const PolicyResult* oracle = FindPolicy(results, kOraclePolicyName)) {
    RenderRatios(out, "Gap to oracle (value / oracle; the oracle sees the future, a bound)",
                 results, *oracle);
  }
  return out;
}

}  // namespace cace
