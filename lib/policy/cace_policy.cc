#include <algorithm>

#include "cace/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

CacePolicy::CacePolicy(std::unique_ptr<ContextScorer> scorer, CacePolicyOptions options)
    : scorer_(std::move(scorer)),
      options_(options),
      name_(scorer_->name() == "cace" ? "cace" : "cace-" + std::string(scorer_->name())),
      usage_(options.window),
      output_lengths_(options.output_prior) {}

void CacePolicy::OnAccess(const AccessEvent& event) {
  usage_.Record(event.model, event.kind, event.time);
}

void CacePolicy::OnComplete(const CompletionEvent& event) {
  output_lengths_.Observe(event.model, event.kind, event.output_tokens);
}

void CacePolicy::CountQueue(const EvictionRequest& request) {
  // Only the candidates' entries are read, so only those are reset (no pass over every model).
  ModelHandle max_model = 0;
  for (const Candidate& c : request.candidates) max_model = std::max(max_model, c.model);
  if (max_model >= queued_.size()) {
    queued_.resize(max_model + 1, 0);
    first_position_.resize(max_model + 1, -1);
  }
  for (const Candidate& c : request.candidates) {
    queued_[c.model] = 0;
    first_position_[c.model] = -1;
  }
  const std::size_t window = std::min<std::size_t>(request.upcoming.size(),
                                                   static_cast<std::size_t>(options_.queue_window));
  for (std::size_t i = 0; i < window; ++i) {
    const ModelHandle m = request.upcoming[i];
    if (m >= queued_.size()) continue;
    ++queued_[m];
    if (first_position_[m] < 0) first_position_[m] = static_cast<int>(i);
  }
}

ModelContext CacePolicy::ContextOf(const Candidate& candidate, const EvictionRequest& request) const {
  ModelContext context;
  context.model = candidate.model;
  context.bytes = candidate.bytes;
  context.load_seconds = candidate.load_seconds;
  context.idle_seconds = std::max(0.0, request.now - candidate.last_use);
  context.drain_seconds = candidate.drain_seconds;
  const UsageReading usage = usage_.Read(candidate.model, request.now);
  context.window_counts = usage.counts;
  context.window_seconds = usage_.options().window;
  context.predicted_demand = usage.predicted_demand;
  context.horizon_seconds = usage_.options().horizon;
  for (TaskKind kind : kAllTaskKinds) {
    context.expected_output_tokens[KindIndex(kind)] = output_lengths_.Expected(candidate.model, kind);
  }
  if (candidate.model < queued_.size()) {
    context.queued_requests = queued_[candidate.model];
    context.first_queue_position = first_position_[candidate.model];
  }
  context.queue_window = static_cast<int>(std::min<std::size_t>(
      request.upcoming.size(), static_cast<std::size_t>(options_.queue_window)));
  return context;
}

void CacePolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  CountQueue(request);
  keys_.resize(request.candidates.size());
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    keys_[i] = scorer_->KeepValue(ContextOf(request.candidates[i], request));
  }
  const std::size_t first = victims.size();
  SelectLowestKeys(request.candidates, keys_, request.bytes_needed, order_, victims);
  if (!options_.prune_unneeded_victims) return;

  // Walk the victims from the most valuable back and keep any whose bytes are not needed.
  auto bytes_of = [&](ModelHandle m) {
    for (const Candidate& c : request.candidates) {
      if (c.model == m) return c.bytes;
    }
    return std::uint64_t{0};
  };
  std::uint64_t freed = 0;
  for (std::size_t v = first; v < victims.size(); ++v) freed += bytes_of(victims[v]);
  if (victims.size() <= first + 1) return;
  // The last victim was needed (before it too little was freed); an earlier one may not be.
  for (std::size_t v = victims.size() - 1; v-- > first;) {
    const std::uint64_t bytes = bytes_of(victims[v]);
    if (freed - bytes >= request.bytes_needed) {
      freed -= bytes;
      victims.erase(victims.begin() + static_cast<std::ptrdiff_t>(v));
    }
  }
}

}  // namespace cace
