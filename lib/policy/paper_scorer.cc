#include "cace/context_scorer.h"

#include <algorithm>
#include <cmath>

namespace cace {

ProfileTerms PaperScorer::Terms(const UsageProfile& p) const {
  double uses = 0.0, output = 0.0;
  for (int k = 0; k < kTaskKindCount; ++k) {
    uses += p.window_counts[k];
    output += p.window_counts[k] * p.expected_output_tokens[k];
  }
  // Mean expected output over the kinds that used it; with no recent use, the plain mean.
  if (uses > 0) {
    output /= uses;
  } else {
    output = 0.0;
    for (double o : p.expected_output_tokens) output += o / kTaskKindCount;
  }
  return {output};
}

inline double PaperScorer::Finish(const ProfileTerms& terms, Seconds idle_seconds,
                                  Seconds load_seconds, int first_queue_position,
                                  int queue_window) const {
  const double recency = 1.0 - 1.0 / (1.0 + std::log1p(std::max(idle_seconds, 0.0)));
  const double load = 1.0 / (1.0 + load_seconds / 100.0);
  const double upcoming = (first_queue_position < 0 || queue_window <= 0)
                              ? 1.0
                              : static_cast<double>(first_queue_position) / queue_window;
  const double eviction_priority = recency + load + upcoming + weights_.output_weight * terms[0];
  return -eviction_priority;
}

double PaperScorer::KeepValue(const ModelContext& c) const {
  return Finish(Terms(c.usage()), c.idle_seconds, c.load_seconds, c.first_queue_position,
                c.queue_window);
}

void PaperScorer::KeepValues(const CandidateBatch& batch, std::span<double> values) const {
  for (std::size_t i = 0; i < batch.candidates.size(); ++i) {
    const Candidate& c = batch.candidates[i];
    values[i] = Finish(batch.terms[c.model], std::max(0.0, batch.now - c.last_use), c.load_seconds,
                       batch.first_queue_position[c.model], batch.queue_window);
  }
}

}  // namespace cace
