#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/report/replay_report.h"
#include "fmt/format.h"
#include "lib/report/figures.h"
#include "lib/report/text_file.h"

namespace cace {
namespace {

// A JSON string literal: quotes, backslashes and every control character escaped (RFC 8259 §7);
// other bytes, UTF-8 included, pass through.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// JSON has no NaN or infinity; an absent or undefined figure is null. fmt's shortest
// round-trip form ("0.1", "1e-05", "3") is valid JSON for every finite double.
std::string Number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : std::string("null");
}

std::string Stats(const LatencyStats& stats) {
  return fmt::format(
      R"({{"count": {}, "mean": {}, "p50": {}, "p95": {}, "p99": {}}})", stats.count,
      Number(StatOrNaN(stats, &LatencyStats::mean)), Number(StatOrNaN(stats, &LatencyStats::p50)),
      Number(StatOrNaN(stats, &LatencyStats::p95)), Number(StatOrNaN(stats, &LatencyStats::p99)));
}

template <typename T, typename Show>
std::string ByKind(const PerKind<T>& values, Show show) {
  std::string out = "{";
  for (TaskKind kind : kAllTaskKinds) {
    out += fmt::format("{}{}: {}", kind == kAllTaskKinds.front() ? "" : ", ",
                       Quote(TaskKindName(kind)), show(values[KindIndex(kind)], kind));
  }
  return out + "}";
}

std::string Ratios(const PolicyResult& result, const PolicyResult* reference) {
  if (reference == nullptr) return "null";
  std::string out = "{";
  for (const RatioFigure& figure : RatioFigures()) {
    out += fmt::format("{}{}: {}", out.size() == 1 ? "" : ", ", Quote(figure.key),
                       Number(Ratio(figure.value(result), figure.value(*reference))));
  }
  return out + "}";
}

// (value - floor) / (base - floor) of the figures the table shows; null without a floor or base.
std::string PenaltyLeftJson(const PolicyResult& r, const PolicyResult* floor, const PolicyResult* base) {
  if (floor == nullptr || base == nullptr) return "null";
  const auto share = [&](double (*of)(const PolicyResult&)) {
    return Number(PenaltyLeft(of(r), of(*floor), of(*base)));
  };
  return fmt::format(
      R"({{"ttft_mean": {}, "ttft_p95": {}, "completion_ttft_mean": {}, "e2e_mean": {}, "evictions": {}}})",
      share([](const PolicyResult& x) { return StatOrNaN(x.ttft, &LatencyStats::mean); }),
      share([](const PolicyResult& x) { return StatOrNaN(x.ttft, &LatencyStats::p95); }),
      share(CompletionTtftMean),
      share([](const PolicyResult& x) { return StatOrNaN(x.e2e, &LatencyStats::mean); }),
      share([](const PolicyResult& x) { return static_cast<double>(x.evictions); }));
}

std::string Scenario(const ScenarioInfo& scenario, const PolicyResult* base,
                     const std::string& baseline) {
  std::string notes = "[";
  for (const std::string& note : scenario.notes) {
    notes += fmt::format("{}{}", notes.size() == 1 ? "" : ", ", Quote(note));
  }
  notes += "]";
  return fmt::format(
      "{{\n    \"name\": {},\n    \"accelerator\": {},\n    \"memory_budget_bytes\": {},\n"
      "    \"trace\": {},\n    \"fleet\": {},\n    \"rate_scale\": {},\n    \"seed\": {},\n"
      "    \"slo_ttft_seconds\": {},\n    \"notes\": {},\n    \"baseline\": {}\n  }}",
      Quote(scenario.name), Quote(scenario.accelerator), Number(scenario.memory_budget_bytes),
      Quote(scenario.trace), Quote(scenario.fleet), Number(scenario.rate_scale), scenario.seed,
      ByKind(scenario.slo_ttft_seconds, [](double v, TaskKind) { return Number(v); }), notes,
      base == nullptr ? std::string("null") : Quote(baseline));
}

// Where loads came from and what prefetch did (all 0 without a host cache or prefetch).
std::string Tiers(const PolicyResult& r) {
  return fmt::format(
      "{{\"host_cache_loads\": {}, \"disk_loads\": {}, \"host_cache_bytes_loaded\": {}, "
      "\"host_cache_drops\": {}, \"prefetches\": {}, \"prefetches_used\": {}, "
      "\"prefetches_cancelled\": {}}}",
      r.host_cache_loads, r.loads - std::min(r.loads, r.host_cache_loads), r.host_cache_bytes_loaded,
      r.host_cache_drops, r.prefetches, r.prefetches_used, r.prefetches_cancelled);
}

std::string Result(const PolicyResult& r, const PolicyResult* base, const PolicyResult* oracle,
                   const PolicyResult* floor) {
  const auto stats = [](const LatencyStats& s, TaskKind) { return Stats(s); };
  // Attainment of a kind no request had is undefined, not 0.
  const auto slo = [&r](double v, TaskKind kind) {
    return r.ttft_by_kind[KindIndex(kind)].count > 0 ? Number(v) : std::string("null");
  };
  return fmt::format(
      "    {{\n      \"policy\": {},\n      \"requests\": {},\n      \"ttft\": {},\n"
      "      \"e2e\": {},\n      \"ttft_by_kind\": {},\n      \"e2e_by_kind\": {},\n"
      "      \"evictions\": {},\n      \"loads\": {},\n      \"bytes_loaded\": {},\n"
      "      \"load_seconds\": {},\n      \"memory_utilization\": {},\n"
      "      \"admission_wait\": {},\n      \"drains\": {},\n      \"drain_wait_seconds\": {},\n"
      "      \"rejected\": {},\n      \"rejection_reason\": {},\n"
      "      \"simulated_seconds\": {},\n      \"tiers\": {},\n"
      "      \"slo_attainment\": {},\n      \"replay_wall_seconds\": {},\n"
      "      \"ratio_to_baseline\": {},\n      \"ratio_to_oracle\": {},\n"
      "      \"penalty_left\": {}\n    }}",
      Quote(r.policy), r.requests, Stats(r.ttft), Stats(r.e2e), ByKind(r.ttft_by_kind, stats),
      ByKind(r.e2e_by_kind, stats), r.evictions, r.loads, r.bytes_loaded, Number(r.load_seconds),
      Number(r.memory_utilization), Stats(r.admission_wait), r.drains,
      Number(r.drain_wait_seconds), r.rejected,
      r.rejected > 0 ? Quote(r.rejection_reason) : std::string("null"),
      Number(r.simulated_seconds), Tiers(r), ByKind(r.slo_attainment, slo), Number(r.replay_wall_seconds),
      Ratios(r, base), Ratios(r, oracle), PenaltyLeftJson(r, floor, base));
}

}  // namespace

absl::Status WriteResultsJson(const std::string& path, const ScenarioInfo& scenario,
                              std::span<const PolicyResult> results, const std::string& baseline) {
  const PolicyResult* base = FindPolicy(results, baseline);
  const PolicyResult* oracle = FindPolicy(results, kOraclePolicyName);
  const PolicyResult* floor = FindPolicy(results, kFloorPolicyName);
  std::string json =
      fmt::format("{{\n  \"schema\": \"cace.replay.v1\",\n  \"scenario\": {},\n  \"results\": [",
                  Scenario(scenario, base, baseline));
  for (const PolicyResult& result : results) {
    json += &result == results.data() ? "\n" : ",\n";
    json += Result(result, base, oracle, floor);
  }
  json += results.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return WriteTextFile(path, json, "results JSON");
}

}  // namespace cace
