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
  if (event.model >= expected_outputs_.size()) {
    expected_outputs_.resize(event.model + 1, options_.output_prior);
  }
  for (TaskKind kind : kAllTaskKinds) {
    expected_outputs_[event.model][KindIndex(kind)] = output_lengths_.Expected(event.model, kind);
  }
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
  FillContext(candidate, request, usage_.Bucket(request.now), context);
  return context;
}

void CacePolicy::FillContext(const Candidate& candidate, const EvictionRequest& request,
                             std::int64_t now_bucket, ModelContext& context) const {
  context.model = candidate.model;
  context.bytes = candidate.bytes;
  context.load_seconds = candidate.load_seconds;
  context.idle_seconds = std::max(0.0, request.now - candidate.last_use);
  context.drain_seconds = candidate.drain_seconds;
  const UsageReading usage = usage_.ReadInBucket(candidate.model, now_bucket, request.now);
  context.window_counts = usage.counts;
  context.window_seconds = usage_.options().window;
  context.predicted_demand = usage.predicted_demand;
  context.horizon_seconds = usage_.options().horizon;
  context.expected_output_tokens = candidate.model < expected_outputs_.size()
                                       ? expected_outputs_[candidate.model]
                                       : options_.output_prior;
  const bool counted = candidate.model < queued_.size();  // CountQueue ran for this decision
  context.queued_requests = counted ? queued_[candidate.model] : 0;
  context.first_queue_position = counted ? first_position_[candidate.model] : -1;
  context.queue_window = static_cast<int>(std::min<std::size_t>(
      request.upcoming.size(), static_cast<std::size_t>(options_.queue_window)));
}

void CacePolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  CountQueue(request);
  const std::size_t n = request.candidates.size();
  contexts_.resize(n);
  keys_.resize(n);
  const std::int64_t now_bucket = usage_.Bucket(request.now);
  for (std::size_t i = 0; i < n; ++i) FillContext(request.candidates[i], request, now_bucket, contexts_[i]);
  scorer_->KeepValues(contexts_, keys_);
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
