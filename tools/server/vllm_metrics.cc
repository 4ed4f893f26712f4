#include "tools/server/vllm_metrics.h"

#include <algorithm>

#include "fmt/format.h"

namespace cace::server {
namespace {

// Label values escaped as the exposition format asks (backslash, quote, newline).
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

Histogram SumOverKinds(const ModelMetrics& model, Histogram KindMetrics::*which) {
  Histogram total;
  for (const KindMetrics& kind : model.kinds) {
    const Histogram& h = kind.*which;
    for (std::size_t i = 0; i < total.counts.size(); ++i) total.counts[i] += h.counts[i];
    total.count += h.count;
    total.sum += h.sum;
  }
  return total;
}

void HistogramFamily(std::string& out, const MetricsSnapshot& snapshot, const char* name, const char* help,
                     Histogram KindMetrics::*which) {
  Header(out, name, "histogram", help);
  for (const ModelMetrics& model : snapshot.models) {
    const Histogram h = SumOverKinds(model, which);
    const std::string label = Escape(model.model);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
      cumulative += h.counts[i];
      fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\",model_name=\"{}\"}} {}\n", name,
                     kLatencyBounds[i], label, cumulative);
    }
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\",model_name=\"{}\"}} {}\n", name, label,
                   h.count);
    fmt::format_to(std::back_inserter(out), "{}_sum{{model_name=\"{}\"}} {}\n", name, label, h.sum);
    fmt::format_to(std::back_inserter(out), "{}_count{{model_name=\"{}\"}} {}\n", name, label, h.count);
  }
}

template <typename PerModel>
void GaugeFamily(std::string& out, const MetricsSnapshot& snapshot, const char* name, const char* help,
                 double total, PerModel per_model) {
  Header(out, name, "gauge", help);
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, total);
  for (const ModelMetrics& model : snapshot.models) {
    fmt::format_to(std::back_inserter(out), "{}{{model_name=\"{}\"}} {}\n", name, Escape(model.model),
                   per_model(model));
  }
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ",";
    out += name;
  }
  return out;
}

}  // namespace

int ModelsThatFit(std::uint64_t memory_budget_bytes, const std::vector<ResidencyEntry>& models) {
  std::uint64_t total = 0;
  for (const ResidencyEntry& entry : models) total += entry.weight_bytes;
  if (models.empty() || total == 0) return 1;
  const double mean = static_cast<double>(total) / static_cast<double>(models.size());
  return std::max(1, static_cast<int>(static_cast<double>(memory_budget_bytes) / mean));
}

std::string VllmMetricsText(const MetricsSnapshot& snapshot, const std::vector<ResidencyEntry>& models,
                            double unix_now) {
  std::uint64_t waiting = 0;
  std::uint64_t running = 0;
  std::uint64_t kv_bytes = 0;
  std::uint64_t weight_bytes = 0;
  for (const ModelMetrics& model : snapshot.models) {
    waiting += model.queued;
    running += model.in_flight;
    kv_bytes += model.kv_reserved_bytes;
    weight_bytes += model.resident_bytes;
  }
  // KV usage: the KV caches over the memory the resident weights leave for them (1 when none is
  // left), the fraction that tells a picker whether this node can take more work.
  const std::uint64_t kv_room =
      snapshot.memory_budget_bytes > weight_bytes ? snapshot.memory_budget_bytes - weight_bytes : 0;
  const double kv_usage = kv_room == 0 ? 1.0 : std::min(1.0, static_cast<double>(kv_bytes) / static_cast<double>(kv_room));
  const double budget = static_cast<double>(std::max<std::uint64_t>(snapshot.memory_budget_bytes, 1));

  std::string out;
  GaugeFamily(out, snapshot, "vllm:num_requests_waiting", "Requests waiting for a batch slot or a model load.",
              static_cast<double>(waiting), [](const ModelMetrics& m) { return static_cast<double>(m.queued); });
  GaugeFamily(out, snapshot, "vllm:num_requests_running", "Requests in a model's running batch.",
              static_cast<double>(running), [](const ModelMetrics& m) { return static_cast<double>(m.in_flight); });
  GaugeFamily(out, snapshot, "vllm:kv_cache_usage_perc",
              "KV-cache usage, 1 = full: node total over the memory resident weights leave; per model over the budget.",
              kv_usage, [budget](const ModelMetrics& m) { return static_cast<double>(m.kv_reserved_bytes) / budget; });
  HistogramFamily(out, snapshot, "vllm:time_to_first_token_seconds", "Time to first token in seconds.",
                  &KindMetrics::ttft);
  HistogramFamily(out, snapshot, "vllm:e2e_request_latency_seconds", "End-to-end request latency in seconds.",
                  &KindMetrics::end_to_end);

  std::vector<std::string> resident;
  std::vector<std::string> waiting_models;
  for (const ResidencyEntry& entry : models) {
    if (entry.state == Residency::kResident) {
      resident.push_back(Escape(entry.model));
    } else if (entry.queued > 0) {
      waiting_models.push_back(Escape(entry.model));
    }
  }
  Header(out, "vllm:lora_requests_info", "gauge",
         "Models resident (running_lora_adapters) and waiting for a load (waiting_lora_adapters); value: Unix time.");
  fmt::format_to(std::back_inserter(out),
                 "vllm:lora_requests_info{{max_lora=\"{}\",running_lora_adapters=\"{}\",waiting_lora_adapters=\"{}\"}} {}\n",
                 ModelsThatFit(snapshot.memory_budget_bytes, models), Joined(resident), Joined(waiting_models),
                 unix_now);
  return out;
}

}  // namespace cace::server
