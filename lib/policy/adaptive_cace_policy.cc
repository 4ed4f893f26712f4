#include <algorithm>

#include "cace/model_registry.h"
#include "lib/policy/policies.h"

namespace cace {

namespace {

// The weights the adaptation may move, by reference into a CaceWeights.
std::vector<double*> Tunables(CaceWeights& w) {
  return {&w.load_exponent, &w.size_exponent, &w.frequency_weight, &w.demand_weight,
          &w.output_scale,  &w.latency_sensitivity[KindIndex(TaskKind::kChat)],
          &w.latency_sensitivity[KindIndex(TaskKind::kReasoning)]};
}

}  // namespace

AdaptiveCacePolicy::AdaptiveCacePolicy(AdaptiveCaceOptions options)
    : options_(options),
      weights_(options.initial),
      live_(std::make_unique<CaceScorer>(options.initial), options.base) {}

void AdaptiveCacePolicy::OnRegister(ModelHandle model, const ModelSpec& spec) {
  if (model >= bytes_.size()) {
    bytes_.resize(model + 1, 0);
    load_seconds_.resize(model + 1, 0);
  }
  bytes_[model] = spec.weight_bytes;
  load_seconds_[model] = spec.load_seconds;
  live_.OnRegister(model, spec);
}

void AdaptiveCacePolicy::OnAccess(const AccessEvent& event) {
  live_.OnAccess(event);
  log_.push_back(Logged{false, event.model, event.kind, event.time, 0});
  while (!log_.empty() && log_.front().time < event.time - options_.history) log_.pop_front();
  if (event.time - last_adaptation_ < options_.period) return;
  last_adaptation_ = event.time;
  if (options_.deferred) {
    adaptation_due_ = true;
  } else {
    ApplyAdaptation(MakeAdaptation().Run());
  }
}

std::optional<AdaptiveCacePolicy::Adaptation> AdaptiveCacePolicy::TakeAdaptation() {
  if (!adaptation_due_) return std::nullopt;
  adaptation_due_ = false;
  return MakeAdaptation();
}

AdaptiveCacePolicy::Adaptation AdaptiveCacePolicy::MakeAdaptation() const {
  Adaptation a;
  a.options = options_;
  a.current = weights_;
  a.log.assign(log_.begin(), log_.end());
  a.bytes = bytes_;
  a.load_seconds = load_seconds_;
  return a;
}

void AdaptiveCacePolicy::OnComplete(const CompletionEvent& event) {
  live_.OnComplete(event);
  log_.push_back(Logged{true, event.model, event.kind, event.time, event.output_tokens});
}

void AdaptiveCacePolicy::ChooseVictims(const EvictionRequest& request,
                                       std::vector<ModelHandle>& victims) {
  live_.ChooseVictims(request, victims);
}

double AdaptiveCacePolicy::Adaptation::ShadowCost(const CaceWeights& weights) const {
  CacePolicy shadow(std::make_unique<CaceScorer>(weights), options.base);
  std::vector<ResidentModel> residents;
  std::vector<Candidate> scratch;
  std::vector<ModelHandle> victims;
  std::uint64_t used = 0;
  double cost = 0;
  for (const Logged& e : log) {
    if (e.completion) {
      shadow.OnComplete(CompletionEvent{e.model, e.kind, e.time, e.output_tokens});
      continue;
    }
    shadow.OnAccess(AccessEvent{e.model, e.kind, e.time});
    auto it = std::find_if(residents.begin(), residents.end(),
                           [&](const ResidentModel& r) { return r.candidate.model == e.model; });
    if (it != residents.end()) {
      it->candidate.last_use = e.time;
      continue;
    }
    cost += load_seconds[e.model] * current.latency_sensitivity[KindIndex(e.kind)];
    const std::uint64_t free_bytes = options.capacity_bytes - std::min(used, options.capacity_bytes);
    if (bytes[e.model] > free_bytes) {
      if (!PlanEviction(shadow, residents, bytes[e.model] - free_bytes, e.time, {}, false, scratch, victims).ok()) {
        continue;  // cannot fit even alone: every request to it is a miss either way
      }
      for (ModelHandle v : victims) {
        auto gone = std::find_if(residents.begin(), residents.end(),
                                 [&](const ResidentModel& r) { return r.candidate.model == v; });
        used -= gone->candidate.bytes;
        residents.erase(gone);
      }
    }
    residents.push_back(ResidentModel{Candidate{e.model, bytes[e.model], e.time, load_seconds[e.model]}});
    used += bytes[e.model];
  }
  return cost;
}

CaceWeights AdaptiveCacePolicy::Adaptation::Run() const {
  // Scored with the sensitivities in force, so candidates that lower them cannot win by
  // redefining the cost.
  CaceWeights best = current;
  double best_cost = ShadowCost(current);
  const std::size_t tunable_count = Tunables(best).size();
  for (std::size_t i = 0; i < tunable_count; ++i) {
    for (double factor : {1.0 - options.step, 1.0 + options.step}) {
      CaceWeights candidate = current;
      *Tunables(candidate)[i] *= factor;
      const double cost = ShadowCost(candidate);
      if (cost < best_cost) {
        best_cost = cost;
        best = candidate;
      }
    }
  }
  return best;
}

void AdaptiveCacePolicy::ApplyAdaptation(const CaceWeights& weights) {
  CaceWeights proposed = weights;
  bool changed = false;
  auto proposed_values = Tunables(proposed);
  auto current_values = Tunables(weights_);
  for (std::size_t i = 0; i < proposed_values.size(); ++i) changed |= *proposed_values[i] != *current_values[i];
  if (!changed) return;
  weights_ = weights;
  live_.set_scorer(std::make_unique<CaceScorer>(weights_));
  ++adaptations_;
}

}  // namespace cace
