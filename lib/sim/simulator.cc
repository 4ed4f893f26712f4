#include "lib/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"

namespace cace {

absl::StatusOr<std::vector<SimRequest>> ResolveTrace(std::span<const TraceRequest> trace,
                                                     std::span<const FleetModel> fleet,
                                                     const TaskClassifier& classifier) {
  absl::flat_hash_map<std::string, ModelHandle> by_name;
  for (std::size_t i = 0; i < fleet.size(); ++i) by_name[fleet[i].name] = static_cast<ModelHandle>(i);
  std::vector<SimRequest> requests;
  requests.reserve(trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const TraceRequest& t = trace[i];
    auto it = by_name.find(t.model);
    if (it == by_name.end()) {
      return absl::NotFoundError(
          fmt::format("trace request {} names model '{}', which is not in the fleet", i + 1, t.model));
    }
    RequestFeatures features{t.prompt_tokens, t.max_tokens, t.fim, t.kind};
    requests.push_back(SimRequest{t.arrival, it->second, classifier.Classify(features),
                                  t.prompt_tokens, std::max<std::uint32_t>(1, t.output_tokens),
                                  t.max_tokens});
  }
  return requests;
}

namespace {

enum class EventType : std::uint8_t { kLoadDone, kIterationDone, kTimer };

struct Event {
  Seconds time;
  std::uint64_t sequence;  // ties go to the earlier event: the replay is deterministic
  EventType type;
  ModelHandle model;
  bool operator>(const Event& other) const {
    return time != other.time ? time > other.time : sequence > other.sequence;
  }
};

// A request being served: prefilled as part of one iteration, then one token per decode step.
struct Sequence {
  CoreRequest request;
  std::uint32_t prompt_tokens;
  std::uint32_t output_tokens;
  std::uint32_t generated = 0;
};

struct ModelBatch {
  std::vector<Sequence> fresh;       // admitted, waiting for their prefill
  std::vector<Sequence> prefilling;  // in the current prefill iteration
  std::vector<Sequence> active;      // decoding
  Seconds last_iteration_start = -1;
  Seconds iteration_gap = 0;         // time between its last two iterations: its token pace
};

// One replay of one policy: the core, the simulated accelerator it drives, and the measurements.
// The accelerator runs one model iteration at a time, the model the core picks (models sharing a
// GPU interleave at iteration granularity); one load at a time moves weights in, concurrently
// with compute.
class Simulation final : public ServingBackend {
 public:
  Simulation(std::span<const FleetModel> fleet, std::span<const SimRequest> requests,
             const CostModel& cost, const PolicySetup& setup, const SimulationOptions& options)
      : fleet_(fleet), requests_(requests), cost_(cost), options_(options),
        batches_(fleet.size()), admitted_(requests.size(), -1.0),
        first_token_(requests.size(), -1.0), finished_(requests.size(), -1.0) {
    std::vector<ModelHandle> future;
    future.reserve(requests.size());
    for (const SimRequest& r : requests) future.push_back(r.model);
    policy_ = setup.make_policy(future);
    scheduler_ = setup.make_scheduler();
    result_.policy = setup.name;
  }

  absl::StatusOr<PolicyResult> Run();

  void StartLoad(ModelHandle model) override { StartLoadFrom(model, LoadTier::kDisk); }
  void StartLoadFrom(ModelHandle model, LoadTier tier) override {
    const Seconds duration = cost_.LoadSeconds(fleet_[model], tier);
    result_.load_seconds += duration;
    load_ = PendingLoad{model, tier, now_ + duration, next_sequence_};
    Push(now_ + duration, EventType::kLoadDone, model);
  }
  bool CancelLoad(ModelHandle model) override {
    // The load path stops now; its event is left to pass unheeded.
    if (!load_ || load_->model != model) return false;
    result_.load_seconds -= load_->done_at - now_;
    load_.reset();
    return true;
  }
  void Unload(ModelHandle /*model*/) override { result_.eviction_times.push_back(now_); }
  void EvictToHostCache(ModelHandle /*model*/) override { result_.eviction_times.push_back(now_); }
  Seconds DrainSeconds(ModelHandle model) const override {
    const ModelBatch& batch = batches_[model];
    std::uint32_t remaining = 0;
    for (const auto* sequences : {&batch.fresh, &batch.prefilling, &batch.active}) {
      for (const Sequence& s : *sequences) remaining = std::max(remaining, s.output_tokens - s.generated);
    }
    return remaining * std::max(batch.iteration_gap, cost_.DecodeStepSeconds(fleet_[model], 0));
  }
  void StartRequest(const CoreRequest& request) override {
    const SimRequest& r = requests_[request.id];
    admitted_[request.id] = now_;
    batches_[request.model].fresh.push_back(
        Sequence{request, r.prompt_tokens, r.output_tokens});
  }
  void StopRequest(const CoreRequest& request) override {
    ModelBatch& batch = batches_[request.model];
    for (auto* sequences : {&batch.fresh, &batch.prefilling, &batch.active}) {
      std::erase_if(*sequences, [&](const Sequence& s) { return s.request.id == request.id; });
    }
  }
  void RequestEnded(const CoreRequest& request, const absl::Status& status) override {
    // The replay neither cancels nor fails loads: any other end is a bug worth stopping for.
    if (!status.ok() && ended_badly_.ok()) {
      ended_badly_ = absl::InternalError(fmt::format("request {} ended: {}", request.id + 1, std::string(status.message())));
    }
  }

 private:
  absl::Status RegisterFleet();
  void Push(Seconds time, EventType type, ModelHandle model) {
    events_.push(Event{time, next_sequence_++, type, model});
  }
  void StartIterationIfIdle();
  absl::Status FinishIteration(ModelHandle model);
  void AdvanceTo(Seconds time);
  void ScheduleTimer();
  PolicyResult Summarize();

  std::span<const FleetModel> fleet_;
  std::span<const SimRequest> requests_;
  const CostModel& cost_;
  const SimulationOptions& options_;
  std::unique_ptr<EvictionPolicy> policy_;
  std::unique_ptr<LoadScheduler> scheduler_;
  std::unique_ptr<ServingCore> core_;

  Seconds now_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  Seconds timer_at_ = INFINITY;
  std::vector<ModelBatch> batches_;
  bool accelerator_busy_ = false;
  double used_byte_seconds_ = 0;
  std::vector<double> admitted_;  // when each request joined its model's batch
  std::vector<double> first_token_;
  std::vector<double> finished_;
  std::vector<FinishedRequest> done_;  // scratch
  absl::Status ended_badly_;
  PolicyResult result_;
  // The load in progress: which model, from which tier, when it ends, its event's sequence.
  struct PendingLoad {
    ModelHandle model;
    LoadTier tier;
    Seconds done_at;
    std::uint64_t sequence;
  };
  std::optional<PendingLoad> load_;
};

absl::Status Simulation::RegisterFleet() {
  for (const FleetModel& m : fleet_) {
    ModelSpec spec{m.name, {}, WeightFormat::kSimulated, m.weight_bytes, m.kv_bytes_per_token,
                   cost_.LoadSeconds(m), cost_.LoadSeconds(m, LoadTier::kHostCache)};
    absl::StatusOr<ModelHandle> handle = core_->AddModel(spec);
    if (!handle.ok()) return handle.status();
  }
  return absl::OkStatus();
}

void Simulation::AdvanceTo(Seconds time) {
  used_byte_seconds_ += static_cast<double>(core_->registry().used_bytes()) * (time - now_);
  now_ = time;
}

void Simulation::StartIterationIfIdle() {
  if (accelerator_busy_) return;
  const std::optional<ModelHandle> next = core_->PickModelToStep();
  if (!next) return;
  const ModelHandle model = *next;
  ModelBatch& batch = batches_[model];
  if (batch.last_iteration_start >= 0) batch.iteration_gap = now_ - batch.last_iteration_start;
  batch.last_iteration_start = now_;
  accelerator_busy_ = true;
  auto decode_seconds = [&] {
    std::uint64_t kv_tokens = 0;
    for (const Sequence& s : batch.active) kv_tokens += s.prompt_tokens + s.generated;
    return cost_.DecodeStepSeconds(fleet_[model], batch.active.size(), kv_tokens);
  };
  Seconds duration;
  if (!batch.fresh.empty()) {
    std::uint64_t prompt_tokens = 0;
    for (const Sequence& s : batch.fresh) prompt_tokens += s.prompt_tokens;
    duration = cost_.PrefillSeconds(fleet_[model], prompt_tokens);
    if (options_.decode_with_prefill && !batch.active.empty()) duration += decode_seconds();
    batch.prefilling.swap(batch.fresh);
  } else {
    duration = decode_seconds();
  }
  Push(now_ + duration, EventType::kIterationDone, model);
}

absl::Status Simulation::FinishIteration(ModelHandle model) {
  ModelBatch& batch = batches_[model];
  accelerator_busy_ = false;
  done_.clear();
  auto finish = [&](const Sequence& s) {
    finished_[s.request.id] = now_;
    done_.push_back(FinishedRequest{s.request.id, s.output_tokens});
  };
  auto decode_active = [&] {
    for (std::size_t i = 0; i < batch.active.size();) {
      Sequence& s = batch.active[i];
      if (++s.generated >= s.output_tokens) {
        finish(s);
        s = batch.active.back();
        batch.active.pop_back();
      } else {
        ++i;
      }
    }
  };
  if (!batch.prefilling.empty()) {
    if (options_.decode_with_prefill) decode_active();  // the running requests' token of this step
    // The prefill produces each sequence's first token.
    for (Sequence& s : batch.prefilling) {
      first_token_[s.request.id] = now_;
      s.generated = 1;
      if (s.generated >= s.output_tokens) {
        finish(s);
      } else {
        batch.active.push_back(s);
      }
    }
    batch.prefilling.clear();
  } else {
    decode_active();
  }
  // May admit new requests onto the accelerator.
  absl::Status step = core_->OnStepFinished(model, done_, now_);
  StartIterationIfIdle();
  return step;
}

void Simulation::ScheduleTimer() {
  const Seconds next = core_->NextTimer();
  if (next < timer_at_) {
    timer_at_ = std::max(next, now_);
    Push(timer_at_, EventType::kTimer, 0);
  }
}

absl::StatusOr<PolicyResult> Simulation::Run() {
  const auto wall_start = std::chrono::steady_clock::now();
  core_ = std::make_unique<ServingCore>(options_.memory_budget_bytes, *policy_, *scheduler_, *this,
                                        options_.core);
  if (absl::Status s = RegisterFleet(); !s.ok()) return s;

  const std::size_t progress_step = std::max<std::size_t>(1, requests_.size() / 100);
  std::size_t next_arrival = 0;
  while (next_arrival < requests_.size() || !events_.empty()) {
    const bool arrival_first =
        next_arrival < requests_.size() &&
        (events_.empty() || requests_[next_arrival].arrival <= events_.top().time);
    if (arrival_first) {
      const SimRequest& r = requests_[next_arrival];
      AdvanceTo(std::max(now_, r.arrival));
      const absl::Status submitted = core_->Submit(
          CoreRequest{next_arrival, r.model, r.kind, r.arrival, r.prompt_tokens, r.OutputLimit()}, now_);
      if (absl::IsOutOfRange(submitted)) {
        // Larger than the memory: a server answers it with this error and goes on serving.
        if (result_.rejected++ == 0) {
          result_.rejection_reason =
              fmt::format("request {}: {}", next_arrival + 1, std::string(submitted.message()));
        }
        first_token_[next_arrival] = finished_[next_arrival] = admitted_[next_arrival] = NAN;
      } else if (!submitted.ok()) {
        return absl::Status(submitted.code(),
                            fmt::format("request {}: {}", next_arrival + 1, std::string(submitted.message())));
      }
      ++next_arrival;
      if (options_.progress && next_arrival % progress_step == 0) {
        options_.progress(static_cast<double>(next_arrival) / static_cast<double>(requests_.size()));
      }
    } else {
      const Event event = events_.top();
      events_.pop();
      AdvanceTo(event.time);
      switch (event.type) {
        case EventType::kLoadDone: {
          if (!load_ || load_->sequence != event.sequence) continue;  // a cancelled prefetch
          const LoadTier tier = load_->tier;
          load_.reset();
          if (absl::Status s = core_->OnLoadFinished(event.model, now_, cost_.LoadSeconds(fleet_[event.model], tier));
              !s.ok()) {
            return s;
          }
          break;
        }
        case EventType::kIterationDone:
          if (absl::Status s = FinishIteration(event.model); !s.ok()) return s;
          break;
        case EventType::kTimer:
          if (event.time != timer_at_) continue;  // superseded by an earlier timer
          timer_at_ = INFINITY;
          core_->OnTimer(now_);
          break;
      }
    }
    StartIterationIfIdle();
    ScheduleTimer();
    if (options_.check_invariants) {
      if (absl::Status s = core_->CheckInvariants(); !s.ok()) return s;
    }
  }
  if (!ended_badly_.ok()) return ended_badly_;
  const std::size_t unfinished = static_cast<std::size_t>(
      std::count(finished_.begin(), finished_.end(), -1.0));
  if (unfinished > 0) {
    return absl::InternalError(fmt::format("policy '{}': {} requests never finished ({} still waiting)",
                                           result_.policy, unfinished, core_->waiting_requests()));
  }
  PolicyResult result = Summarize();
  result.replay_wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

PolicyResult Simulation::Summarize() {
  PolicyResult& r = result_;
  r.requests = requests_.size();
  std::vector<double> e2e(requests_.size()), admission_wait(requests_.size());
  PerKind<std::vector<double>> ttft_by_kind, e2e_by_kind;
  PerKind<std::uint64_t> met{}, total{};
  r.ttft_samples.resize(requests_.size());
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    const int k = KindIndex(requests_[i].kind);
    r.ttft_samples[i] = first_token_[i] - requests_[i].arrival;
    e2e[i] = finished_[i] - requests_[i].arrival;
    admission_wait[i] = admitted_[i] - requests_[i].arrival;
    if (std::isnan(finished_[i])) continue;  // rejected
    ttft_by_kind[k].push_back(r.ttft_samples[i]);
    e2e_by_kind[k].push_back(e2e[i]);
    ++total[k];
    if (r.ttft_samples[i] <= options_.slo_ttft[k]) ++met[k];
  }
  r.ttft = SummarizeLatencies(r.ttft_samples);
  r.e2e = SummarizeLatencies(e2e);
  r.admission_wait = SummarizeLatencies(admission_wait);
  for (int k = 0; k < kTaskKindCount; ++k) {
    r.ttft_by_kind[k] = SummarizeLatencies(ttft_by_kind[k]);
    r.e2e_by_kind[k] = SummarizeLatencies(e2e_by_kind[k]);
    r.slo_attainment[k] = total[k] ? static_cast<double>(met[k]) / static_cast<double>(total[k]) : NAN;
  }
  const CoreCounters& c = core_->counters();
  r.evictions = c.evictions;
  r.loads = c.loads;
  r.bytes_loaded = c.bytes_loaded;
  r.drains = c.drains;
  r.drain_wait_seconds = c.drain_wait_seconds;
  r.host_cache_loads = c.host_cache_loads;
  r.host_cache_bytes_loaded = c.host_cache_bytes_loaded;
  r.host_cache_drops = c.host_cache_drops;
  r.prefetches = c.prefetches;
  r.prefetches_used = c.prefetches_used;
  r.prefetches_cancelled = c.prefetches_cancelled;
  r.simulated_seconds = now_;
  r.memory_utilization =
      now_ > 0 ? used_byte_seconds_ / (now_ * static_cast<double>(options_.memory_budget_bytes)) : 0.0;
  return r;
}

}  // namespace

absl::StatusOr<PolicyResult> Simulate(std::span<const FleetModel> fleet,
                                      std::span<const SimRequest> requests,
                                      const CostModel& cost, const PolicySetup& setup,
                                      const SimulationOptions& options) {
  for (std::size_t i = 1; i < requests.size(); ++i) {
    if (requests[i].arrival < requests[i - 1].arrival) {
      return absl::InvalidArgumentError(fmt::format("request {} arrives before request {}", i + 1, i));
    }
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].model >= fleet.size()) {
      return absl::InvalidArgumentError(fmt::format("request {} names model {} of a fleet of {}",
                                                    i + 1, requests[i].model, fleet.size()));
    }
  }
  Simulation simulation(fleet, requests, cost, setup, options);
  return simulation.Run();
}

}  // namespace cace
