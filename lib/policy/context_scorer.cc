#include "cace/context_scorer.h"

#include <algorithm>

namespace cace {

ModelContext CandidateBatch::Context(std::size_t i) const {
  const Candidate& candidate = candidates[i];
  const ModelHandle m = candidate.model;
  const UsageProfile& profile = profiles[m];
  ModelContext context;
  context.model = m;
  context.bytes = candidate.bytes;
  context.load_seconds = candidate.load_seconds;
  context.idle_seconds = std::max(0.0, now - candidate.last_use);
  context.window_counts = profile.window_counts;
  context.window_seconds = profile.window_seconds;
  context.predicted_demand = predicted_demand[i];
  context.horizon_seconds = profile.horizon_seconds;
  context.expected_output_tokens = profile.expected_output_tokens;
  context.queued_requests = queued_requests[m];
  context.first_queue_position = first_queue_position[m];
  context.queue_window = queue_window;
  context.drain_seconds = candidate.drain_seconds;
  return context;
}

void ContextScorer::KeepValues(const CandidateBatch& batch, std::span<double> values) const {
  for (std::size_t i = 0; i < batch.candidates.size(); ++i) values[i] = KeepValue(batch.Context(i));
}

}  // namespace cace
