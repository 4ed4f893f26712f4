#include "examples/replay/real_replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <thread>

#include "cace/engine.h"
#include "fmt/format.h"
#include "lib/runtime/model_instance.h"
#include "lib/sim/calibrated_cost_model.h"
#include "lib/sim/policy_catalog.h"
#include "lib/sim/simulator.h"

namespace cace {

namespace {

using Clock = std::chrono::steady_clock;

std::uint32_t Scaled(std::uint32_t tokens, double scale, std::uint32_t low, std::uint32_t high) {
  const double v = std::round(static_cast<double>(tokens) * scale);
  return static_cast<std::uint32_t>(std::clamp(v, static_cast<double>(low), static_cast<double>(high)));
}

// What one request's on_done reported.
struct Outcome {
  bool done = false;
  bool ok = false;
  double ttft = NAN, e2e = NAN, queued = NAN;
  std::uint32_t output_tokens = 0;
  std::string error;  // the status of a request that failed
};

// Keeps the model files of models not loading out of the page cache (a load reads the disk, as a
// server's cold start does) and samples the memory in use for the utilisation figure.
class Watcher {
 public:
  Watcher(Engine& engine, const RealRunOptions& options) : engine_(engine), options_(options) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Watcher() {
    stop_ = true;
    thread_.join();
  }
  double Utilization() const {
    return samples_ == 0 ? 0 : used_sum_ / static_cast<double>(samples_) / static_cast<double>(options_.memory_budget_bytes);
  }
  const absl::Status& status() const { return status_; }

 private:
  void Run() {
    while (!stop_) {
      const std::vector<ResidencyEntry> listed = engine_.ListModels();
      if (options_.cold_loads) {
        for (const ResidencyEntry& e : listed) {
          if (e.state == Residency::kLoading) continue;
          for (const ModelFile& f : options_.models) {
            if (f.name != e.model) continue;
            if (absl::Status s = DropFromPageCache(f.path); !s.ok() && status_.ok()) status_ = s;
          }
        }
      }
      used_sum_ += static_cast<double>(engine_.Metrics().memory_used_bytes);
      ++samples_;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  Engine& engine_;
  const RealRunOptions& options_;
  std::atomic<bool> stop_{false};
  double used_sum_ = 0;
  std::uint64_t samples_ = 0;
  absl::Status status_;
  std::thread thread_;
};

std::vector<std::int32_t> PromptTokens(std::uint32_t count, std::size_t salt) {
  // Printable bytes: every vocabulary here (the tiny byte-level one, SmolLM2's) holds their ids.
  std::vector<std::int32_t> tokens(count);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(40 + (i * 13 + salt * 7) % 80);
  return tokens;
}

// The figures of one replay from its requests' latencies.
void Summarize(const std::vector<RealRequest>& trace, const std::vector<Outcome>& outcomes,
               const PerKind<Seconds>& slo, PolicyResult& r) {
  r.requests = trace.size();
  std::vector<double> e2e(trace.size(), NAN), queued(trace.size(), NAN);
  PerKind<std::vector<double>> ttft_by_kind, e2e_by_kind;
  PerKind<std::uint64_t> met{}, total{};
  r.ttft_samples.assign(trace.size(), NAN);
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (!o.ok) continue;
    const int k = KindIndex(trace[i].kind);
    r.ttft_samples[i] = o.ttft;
    e2e[i] = o.e2e;
    queued[i] = o.queued;
    ttft_by_kind[k].push_back(o.ttft);
    e2e_by_kind[k].push_back(o.e2e);
    ++total[k];
    if (o.ttft <= slo[k]) ++met[k];
  }
  r.ttft = SummarizeLatencies(r.ttft_samples);
  r.e2e = SummarizeLatencies(e2e);
  r.admission_wait = SummarizeLatencies(queued);
  for (int k = 0; k < kTaskKindCount; ++k) {
    r.ttft_by_kind[k] = SummarizeLatencies(ttft_by_kind[k]);
    r.e2e_by_kind[k] = SummarizeLatencies(e2e_by_kind[k]);
    r.slo_attainment[k] = total[k] ? static_cast<double>(met[k]) / static_cast<double>(total[k]) : NAN;
  }
}

absl::StatusOr<PolicyResult> Serve(const std::string& policy, const std::vector<RealRequest>& trace,
                                   const RealRunOptions& options, std::vector<Outcome>& outcomes) {
  EngineOptions engine_options;
  engine_options.memory_budget_bytes = options.memory_budget_bytes;
  engine_options.host_cache_bytes = options.host_cache_bytes;
  engine_options.policy = policy;
  engine_options.max_batch = options.max_batch;
  engine_options.compute_threads = options.compute_threads;
  engine_options.max_pending_requests = static_cast<std::int64_t>(trace.size()) + 1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(engine_options);
  if (!engine.ok()) return engine.status();
  for (const ModelFile& f : options.models) {
    if (absl::Status s = (*engine)->AddModel(f.path, ModelOptions{.id = f.name}); !s.ok()) return s;
  }
  outcomes.assign(trace.size(), Outcome{});
  PolicyResult result;
  result.policy = policy;
  std::mutex mu;
  Seconds last_end = 0;
  const auto start = Clock::now();
  {
    Watcher watcher(**engine, options);
    for (std::size_t i = 0; i < trace.size(); ++i) {
      const RealRequest& t = trace[i];
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(t.arrival)));
      Request request;
      request.model = options.models[t.model].name;
      request.prompt_tokens = PromptTokens(t.prompt_tokens, i);
      request.kind = t.kind;
      request.max_tokens = static_cast<std::int32_t>(t.max_tokens);
      RequestCallbacks callbacks;
      callbacks.on_done = [&outcomes, &mu, &last_end, start, i](const RequestResult& r) {
        std::lock_guard lock(mu);
        Outcome& o = outcomes[i];
        o.done = true;
        o.ok = r.status.ok();
        if (!o.ok) o.error = r.status.ToString();
        // A request whose first token was the model's EOS streamed nothing: its answer came at
        // its end (the simulator's prefill ends it then too).
        o.ttft = r.timings.first_token >= 0 ? r.timings.first_token : r.timings.end_to_end;
        o.e2e = r.timings.end_to_end;
        o.queued = r.timings.queued;
        o.output_tokens = static_cast<std::uint32_t>(r.usage.completion_tokens);
        last_end = std::max(last_end, std::chrono::duration<double>(Clock::now() - start).count());
      };
      absl::StatusOr<RequestId> id = (*engine)->Submit(std::move(request), std::move(callbacks));
      if (absl::IsOutOfRange(id.status())) {
        if (result.rejected++ == 0) result.rejection_reason = fmt::format("request {}: {}", i + 1, std::string(id.status().message()));
      } else if (!id.ok()) {
        return absl::Status(id.status().code(), fmt::format("request {}: {}", i + 1, std::string(id.status().message())));
      }
    }
    (*engine)->WaitIdle();
    if (!watcher.status().ok()) return watcher.status();
    result.memory_utilization = watcher.Utilization();
  }
  std::lock_guard lock(mu);
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const Outcome& o = outcomes[i];
    // A request the engine failed (not one refused at Submit) is counted with the rejected ones,
    // its reason kept, and left out of the latencies, as the simulator leaves out its rejections.
    if (o.done && !o.ok && result.rejected++ == 0) {
      result.rejection_reason = fmt::format("request {} failed: {}", i + 1, o.error);
    }
  }
  const MetricsSnapshot metrics = (*engine)->Metrics();
  for (const ModelMetrics& m : metrics.models) {
    result.loads += m.loads;
    result.evictions += m.evictions;
    result.bytes_loaded += m.bytes_loaded;
    result.load_seconds += m.load_seconds;
    result.host_cache_loads += m.from_host_cache.loads;
    result.host_cache_bytes_loaded += m.from_host_cache.bytes;
  }
  result.simulated_seconds = last_end;
  result.replay_wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Summarize(trace, outcomes, options.slo_ttft, result);
  return result;
}

absl::StatusOr<PolicyResult> Predict(const std::string& policy, const std::vector<RealRequest>& trace,
                                     const RealRunOptions& options, const std::vector<Outcome>& outcomes) {
  std::vector<FleetModel> fleet;
  for (const ModelFile& f : options.models) {
    absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(f.path, MemoryKind::kHost);
    if (!footprint.ok()) return footprint.status();
    auto measured = std::find_if(options.costs.begin(), options.costs.end(),
                                 [&](const MeasuredModelCosts& c) { return c.model == f.name; });
    FleetModel m;
    m.name = f.name;
    m.weight_bytes = measured != options.costs.end() ? measured->weight_bytes : footprint->weight_bytes;
    m.kv_bytes_per_token = footprint->kv_bytes_per_token;
    m.params = static_cast<double>(m.weight_bytes) / 2;  // not read by the calibrated model
    fleet.push_back(std::move(m));
  }
  absl::StatusOr<CalibratedCostModel> cost = CalibratedCostModel::ForFleet(options.costs, fleet);
  if (!cost.ok()) return cost.status();
  std::vector<SimRequest> requests;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const RealRequest& t = trace[i];
    // The output the model really produced (an EOS may end it before max_tokens).
    const std::uint32_t output = outcomes[i].ok ? std::max<std::uint32_t>(1, outcomes[i].output_tokens) : t.max_tokens;
    requests.push_back(SimRequest{t.arrival, static_cast<ModelHandle>(t.model), t.kind, t.prompt_tokens, output,
                                  t.max_tokens});
  }
  absl::StatusOr<PolicySetup> setup = PolicyByName(policy, CatalogOptions{options.memory_budget_bytes});
  if (!setup.ok()) return setup.status();
  SimulationOptions simulation;
  simulation.memory_budget_bytes = options.memory_budget_bytes;
  simulation.core.host_cache_bytes = options.host_cache_bytes;
  simulation.core.max_batch = options.max_batch;
  simulation.slo_ttft = options.slo_ttft;
  simulation.decode_with_prefill = options.decode_with_prefill;
  return Simulate(fleet, requests, *cost, *setup, simulation);
}

}  // namespace

absl::StatusOr<std::vector<RealRequest>> MakeRealTrace(const RealTraceOptions& options, std::size_t model_count) {
  if (model_count == 0) return absl::InvalidArgumentError("no model files to replay on");
  if (options.time_compression <= 0 || options.length_scale <= 0) {
    return absl::InvalidArgumentError("time compression and length scale must be positive");
  }
  absl::StatusOr<Scenario> scenario = BuildScenario(options.scenario);
  if (!scenario.ok()) return scenario.status();
  std::vector<std::size_t> by_size(scenario->fleet.size());
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    return scenario->fleet[a].weight_bytes < scenario->fleet[b].weight_bytes;
  });
  std::vector<std::size_t> file_of(scenario->fleet.size());
  for (std::size_t rank = 0; rank < by_size.size(); ++rank) file_of[by_size[rank]] = rank * model_count / by_size.size();
  std::vector<RealRequest> trace;
  double first = -1;
  for (const SimRequest& r : scenario->requests) {
    if (r.arrival < options.start_seconds) continue;
    if (trace.size() >= options.requests) break;
    if (first < 0) first = r.arrival;
    RealRequest t;
    t.arrival = (r.arrival - first) / options.time_compression;
    t.model = file_of[r.model];
    t.kind = r.kind;
    t.prompt_tokens = Scaled(r.prompt_tokens, options.length_scale, 4, options.max_prompt_tokens);
    t.max_tokens = Scaled(r.output_tokens, options.length_scale, 1, options.max_output_tokens);
    trace.push_back(t);
  }
  if (trace.empty()) return absl::InvalidArgumentError("the default traffic has no request after --start_s");
  return trace;
}

absl::StatusOr<RealPolicyRun> RunRealPolicy(const std::string& policy, const std::vector<RealRequest>& trace,
                                            const RealRunOptions& options) {
  std::vector<Outcome> outcomes;
  absl::StatusOr<PolicyResult> measured = Serve(policy, trace, options, outcomes);
  if (!measured.ok()) return measured.status();
  absl::StatusOr<PolicyResult> predicted = Predict(policy, trace, options, outcomes);
  if (!predicted.ok()) return predicted.status();
  predicted->policy = policy;
  return RealPolicyRun{*std::move(measured), *std::move(predicted)};
}

std::string FormatPredictionTable(const std::vector<RealPolicyRun>& runs, double tolerance) {
  std::string out = fmt::format(
      "Measured on this machine beside the simulator's prediction (calibrated cost model); 'ok' = "
      "within {:.0f} % of measured\n",
      tolerance * 100);
  out += fmt::format("{:<10} {:>11} {:>11} {:>7} {:>4} {:>11} {:>11} {:>7} {:>4} {:>11} {:>11}\n", "policy",
                     "TTFT meas", "TTFT pred", "pred/m", "", "E2E meas", "E2E pred", "pred/m", "", "loads m/p",
                     "evict m/p");
  for (const RealPolicyRun& r : runs) {
    const double t = r.predicted.ttft.mean / r.measured.ttft.mean;
    const double e = r.predicted.e2e.mean / r.measured.e2e.mean;
    auto verdict = [&](double ratio) { return std::abs(ratio - 1) <= tolerance ? "ok" : "OFF"; };
    out += fmt::format("{:<10} {:>10.3f}s {:>10.3f}s {:>7.3f} {:>4} {:>10.3f}s {:>10.3f}s {:>7.3f} {:>4} {:>5}/{:<5} {:>5}/{:<5}\n",
                       r.measured.policy, r.measured.ttft.mean, r.predicted.ttft.mean, t, verdict(t), r.measured.e2e.mean,
                       r.predicted.e2e.mean, e, verdict(e), r.measured.loads, r.predicted.loads, r.measured.evictions,
                       r.predicted.evictions);
  }
  return out;
}

}  // namespace cace
