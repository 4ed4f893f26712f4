#include "tools/server/vllm_metrics.h"

#include <catch2/catch.hpp>

namespace cace::server {
namespace {

MetricsSnapshot TwoModels() {
  MetricsSnapshot snapshot;
  snapshot.memory_budget_bytes = 1000;
  ModelMetrics a;
  a.model = "coder";
  a.queued = 2;
  a.in_flight = 3;
  a.kv_reserved_bytes = 100;
  a.resident_bytes = 600;
  a.kinds[KindIndex(TaskKind::kCompletion)].ttft.Observe(0.2);
  a.kinds[KindIndex(TaskKind::kChat)].ttft.Observe(3.0);
  ModelMetrics b;
  b.model = "chat\"x";
  b.queued = 4;
  snapshot.models = {a, b};
  return snapshot;
}

std::vector<ResidencyEntry> Listing() {
  return {{.model = "coder", .state = Residency::kResident, .weight_bytes = 600},
          {.model = "chat\"x", .state = Residency::kAbsent, .weight_bytes = 400, .queued = 4}};
}

TEST_CASE("gauges: the node's total first without labels, then one series per model") {
  const std::string text = VllmMetricsText(TwoModels(), Listing(), 1.7e9);
  const auto total = text.find("vllm:num_requests_waiting 6\n");
  const auto per_model = text.find("vllm:num_requests_waiting{model_name=\"coder\"} 2\n");
  REQUIRE(total != std::string::npos);
  REQUIRE(per_model != std::string::npos);
  CHECK(total < per_model);
  CHECK(text.find("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n") != std::string::npos);
  // KV: 100 bytes of caches in the 400 the resident weights leave.
  CHECK(text.find("vllm:kv_cache_usage_perc 0.25\n") != std::string::npos);
  CHECK(text.find("vllm:kv_cache_usage_perc{model_name=\"coder\"} 0.1\n") != std::string::npos);
  CHECK(text.find("model_name=\"chat\\\"x\"") != std::string::npos);  // label escaped
}

TEST_CASE("histograms are cumulative, summed over the task kinds") {
  const std::string text = VllmMetricsText(TwoModels(), Listing(), 1.7e9);
  CHECK(text.find("# TYPE vllm:time_to_first_token_seconds histogram") != std::string::npos);
  CHECK(text.find("vllm:time_to_first_token_seconds_bucket{le=\"0.25\",model_name=\"coder\"} 1\n") != std::string::npos);
  CHECK(text.find("vllm:time_to_first_token_seconds_bucket{le=\"5\",model_name=\"coder\"} 2\n") != std::string::npos);
  CHECK(text.find("vllm:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"coder\"} 2\n") != std::string::npos);
  CHECK(text.find("vllm:time_to_first_token_seconds_count{model_name=\"coder\"} 2\n") != std::string::npos);
  CHECK(text.find("vllm:e2e_request_latency_seconds_count{model_name=\"chat\\\"x\"} 0\n") != std::string::npos);
}

TEST_CASE("lora_requests_info: resident models running, waiting ones waiting, how many fit, the time") {
  const std::string text = VllmMetricsText(TwoModels(), Listing(), 1700000000.5);
  CHECK(text.find("vllm:lora_requests_info{max_lora=\"2\",running_lora_adapters=\"coder\","
                  "waiting_lora_adapters=\"chat\\\"x\"} 1700000000.5\n") != std::string::npos);
  CHECK(ModelsThatFit(1000, Listing()) == 2);  // mean 500 bytes per model
  CHECK(ModelsThatFit(100, Listing()) == 1);
  CHECK(ModelsThatFit(100, {}) == 1);
}

}  // namespace
}  // namespace cace::server
