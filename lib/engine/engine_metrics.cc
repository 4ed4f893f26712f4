// Histograms, the Prometheus text exposition and the residency table of include/cace/engine_metrics.h.
#include "cace/engine_metrics.h"

#include <algorithm>
#include <tuple>

#include "fmt/format.h"

namespace cace {

void Histogram::Observe(double seconds) {
  const auto at = std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds);
  ++counts[static_cast<std::size_t>(at - kLatencyBounds.begin())];
  ++count;
  sum += seconds;
}

const char* ResidencyName(Residency residency) {
  switch (residency) {
    case Residency::kAbsent: return "absent";
    case Residency::kLoading: return "loading";
    case Residency::kResident: return "resident";
    case Residency::kEvicting: return "evicting";
    case Residency::kHostCache: return "host-cache";
  }
  return "unknown";
}

namespace {

// Label values are model ids chosen by the host: escape as the exposition format asks.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void HistogramLines(std::string& out, const char* name, const std::string& labels, const Histogram& h) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
    cumulative += h.counts[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, kLatencyBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, h.count);
  out += fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, h.sum, name, labels, h.count);
}

std::string KindLabels(const ModelMetrics& m, int kind) {
  return fmt::format("model=\"{}\",kind=\"{}\"", Escape(m.model), TaskKindName(kAllTaskKinds[kind]));
}

template <typename Value>
void PerModel(std::string& out, const MetricsSnapshot& s, const char* name, const char* type, const char* help,
              Value value) {
  Header(out, name, type, help);
  for (const ModelMetrics& m : s.models) out += fmt::format("{}{{model=\"{}\"}} {}\n", name, Escape(m.model), value(m));
}

// A counter per model and load tier.
template <typename Value>
void PerModelTier(std::string& out, const MetricsSnapshot& s, const char* name, const char* help, Value value) {
  Header(out, name, "counter", help);
  for (const ModelMetrics& m : s.models) {
    out += fmt::format("{}{{model=\"{}\",tier=\"disk\"}} {}\n", name, Escape(m.model), value(m.from_disk));
    out += fmt::format("{}{{model=\"{}\",tier=\"host-cache\"}} {}\n", name, Escape(m.model), value(m.from_host_cache));
  }
}

template <typename Value>
void PerKindCounter(std::string& out, const MetricsSnapshot& s, const char* name, const char* help, Value value) {
  Header(out, name, "counter", help);
  for (const ModelMetrics& m : s.models) {
    for (int k = 0; k < kTaskKindCount; ++k) out += fmt::format("{}{{{}}} {}\n", name, KindLabels(m, k), value(m.kinds[k]));
  }
}

}  // namespace

std::string PrometheusText(const MetricsSnapshot& s) {
  std::string out;
  Header(out, "cace_requests_total", "counter", "Requests ended, by model, kind and status.");
  for (const ModelMetrics& m : s.models) {
    for (int k = 0; k < kTaskKindCount; ++k) {
      out += fmt::format("cace_requests_total{{{},status=\"ok\"}} {}\n", KindLabels(m, k), m.kinds[k].requests_ok);
      out += fmt::format("cace_requests_total{{{},status=\"error\"}} {}\n", KindLabels(m, k), m.kinds[k].requests_failed);
    }
  }
  PerKindCounter(out, s, "cace_prompt_tokens_total", "Prompt tokens of ended requests.",
                 [](const KindMetrics& k) { return k.prompt_tokens; });
  PerKindCounter(out, s, "cace_completion_tokens_total", "Tokens generated.",
                 [](const KindMetrics& k) { return k.completion_tokens; });
  const std::pair<const char*, Histogram KindMetrics::*> histograms[] = {
      {"cace_time_to_first_token_seconds", &KindMetrics::ttft},
      {"cace_request_duration_seconds", &KindMetrics::end_to_end},
      {"cace_queue_time_seconds", &KindMetrics::queue_time}};
  const char* helps[] = {"Submit to first token.", "Submit to end.", "Submit to joining the batch."};
  for (std::size_t h = 0; h < std::size(histograms); ++h) {
    Header(out, histograms[h].first, "histogram", helps[h]);
    for (const ModelMetrics& m : s.models) {
      for (int k = 0; k < kTaskKindCount; ++k) {
        HistogramLines(out, histograms[h].first, KindLabels(m, k), m.kinds[k].*histograms[h].second);
      }
    }
  }
  PerModel(out, s, "cace_model_loads_total", "counter", "Loads finished.", [](const ModelMetrics& m) { return m.loads; });
  PerModel(out, s, "cace_model_load_failures_total", "counter", "Loads that failed.",
           [](const ModelMetrics& m) { return m.load_failures; });
  PerModel(out, s, "cace_model_load_bytes_total", "counter", "Weight bytes loaded.",
           [](const ModelMetrics& m) { return m.bytes_loaded; });
  PerModel(out, s, "cace_model_load_seconds_total", "counter", "Seconds spent loading.",
           [](const ModelMetrics& m) { return m.load_seconds; });
  PerModel(out, s, "cace_model_evictions_total", "counter", "Unloads, to make room or idle.",
           [](const ModelMetrics& m) { return m.evictions; });
  PerModel(out, s, "cace_model_resident_bytes", "gauge", "Weight bytes held.",
           [](const ModelMetrics& m) { return m.resident_bytes; });
  PerModel(out, s, "cace_model_kv_reserved_bytes", "gauge",
           "KV bytes reserved for admitted requests ((prompt + max_tokens) x bytes per token): what the policy counts.",
           [](const ModelMetrics& m) { return m.kv_reserved_bytes; });
  PerModel(out, s, "cace_model_kv_allocated_bytes", "gauge", "KV cache bytes the backend really holds.",
           [](const ModelMetrics& m) { return m.kv_allocated_bytes; });
  PerModel(out, s, "cace_model_queued_requests", "gauge", "Requests waiting for a batch slot or a load.",
           [](const ModelMetrics& m) { return m.queued; });
  PerModel(out, s, "cace_model_in_flight_requests", "gauge", "Requests in the model's batch.",
           [](const ModelMetrics& m) { return m.in_flight; });
  PerModelTier(out, s, "cace_model_tier_loads_total", "Loads finished, by the tier they came from.",
               [](const TierLoads& t) { return t.loads; });
  PerModelTier(out, s, "cace_model_tier_load_bytes_total", "Weight bytes loaded, by tier.",
               [](const TierLoads& t) { return t.bytes; });
  PerModelTier(out, s, "cace_model_tier_load_seconds_total", "Seconds spent loading, by tier.",
               [](const TierLoads& t) { return t.seconds; });
  PerModel(out, s, "cace_model_host_cache_bytes", "gauge", "Weight bytes held in the host cache.",
           [](const ModelMetrics& m) { return m.host_cache_bytes; });
  Header(out, "cace_memory_budget_bytes", "gauge", "Memory that weights and KV caches share.");
  out += fmt::format("cace_memory_budget_bytes {}\n", s.memory_budget_bytes);
  Header(out, "cace_memory_used_bytes", "gauge", "Memory counted for weights and KV reservations.");
  out += fmt::format("cace_memory_used_bytes {}\n", s.memory_used_bytes);
  const std::tuple<const char*, const char*, const char*, std::uint64_t> engine_wide[] = {
      {"cace_host_cache_budget_bytes", "gauge", "Host memory the cache of evicted weights may hold.",
       s.host_cache_budget_bytes},
      {"cace_host_cache_used_bytes", "gauge", "Host memory holding evicted weights.", s.host_cache_used_bytes},
      {"cace_prefetches_total", "counter", "Loads started unasked while the load path was idle.", s.prefetches},
      {"cace_prefetches_used_total", "counter", "Prefetched models that served a request before their eviction.",
       s.prefetches_used},
      {"cace_prefetches_cancelled_total", "counter", "Prefetches a real request's load cancelled.",
       s.prefetches_cancelled},
      {"cace_pool_compactions_total", "counter", "Compactions of the memory pool that made room for a load.",
       s.pool_compactions}};
  for (const auto& [name, type, help, value] : engine_wide) {
    Header(out, name, type, help);
    out += fmt::format("{} {}\n", name, value);
  }
  return out;
}

std::string ResidencyListing(const std::vector<ResidencyEntry>& entries) {
  std::string out = fmt::format("{:<24} {:<10} {:>10} {:>11} {:>12} {:>10} {:>9} {:>7} {:>6} {:>8} {:>11}\n", "MODEL",
                                "STATE", "WEIGHTS", "KV RESERVED", "KV ALLOCATED", "LAST USE", "IN FLIGHT", "QUEUED",
                                "PINNED", "PRIORITY", "KEEP ALIVE");
  auto mib = [](std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); };
  for (const ResidencyEntry& e : entries) {
    out += fmt::format("{:<24} {:<10} {:>10} {:>11} {:>12} {:>10} {:>9} {:>7} {:>6} {:>8} {:>11}\n", e.model,
                       ResidencyName(e.state), mib(e.weight_bytes), mib(e.kv_reserved_bytes), mib(e.kv_allocated_bytes),
                       e.last_use_seconds_ago < 0 ? std::string("never") : fmt::format("{:.1f} s ago", e.last_use_seconds_ago),
                       e.in_flight, e.queued, e.pinned ? "yes" : "no", e.priority,
                       e.keep_alive_seconds < 0 ? std::string("-") : fmt::format("{:.0f} s", e.keep_alive_seconds));
  }
  return out;
}

}  // namespace cace
