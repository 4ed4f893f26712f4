// The metrics the ecosystem already scrapes, in vLLM's names, from an Engine's snapshot and
// residency listing, for the Kubernetes Gateway API Inference Extension's endpoint picker (and
// llm-d on it; see docs/scale-out.md):
//   vllm:num_requests_waiting, vllm:num_requests_running, vllm:kv_cache_usage_perc (gauges),
//   vllm:time_to_first_token_seconds, vllm:e2e_request_latency_seconds (histograms),
//   vllm:lora_requests_info{running_lora_adapters, waiting_lora_adapters, max_lora} (the models
//   resident and waiting on this node, in the protocol's adapter form; value: Unix time).
// Each gauge has the node's total first, without labels (the picker reads the first series of a
// family when its spec names no label), then one series per model with a model_name label.
#ifndef CACE_TOOLS_SERVER_VLLM_METRICS_H_
#define CACE_TOOLS_SERVER_VLLM_METRICS_H_

#include <string>
#include <vector>

#include "cace/engine_metrics.h"

namespace cace::server {

// `unix_now`: the value of vllm:lora_requests_info (the picker keeps the newest series).
std::string VllmMetricsText(const MetricsSnapshot& snapshot, const std::vector<ResidencyEntry>& models,
                            double unix_now);

// How many of the listed models the budget holds at once (max_lora): the budget over the mean
// weight bytes of the models, at least 1.
int ModelsThatFit(std::uint64_t memory_budget_bytes, const std::vector<ResidencyEntry>& models);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_VLLM_METRICS_H_
