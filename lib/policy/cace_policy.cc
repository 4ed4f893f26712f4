#include <algorithm>
#include <limits>
#include <span>

#include "lib/policy/policies.h"
#include "lib/policy/victim_selection.h"

namespace cace {

namespace {

// A reading that no bucket is valid through.
constexpr std::int64_t kStale = std::numeric_limits<std::int64_t>::min();

std::string PolicyName(const ContextScorer& scorer) {
  return scorer.name() == "cace" ? "cace" : "cace-" + std::string(scorer.name());
}

// Appends the chosen candidates' models to `victims`, leaving out, when `prune`, any whose bytes
// turn out not to be needed (a large victim chosen late can make earlier small ones unnecessary).
void AppendVictims(std::span<const Candidate> candidates, std::span<std::uint32_t> chosen,
                   std::uint64_t bytes_needed, bool prune, std::vector<ModelHandle>& victims) {
  constexpr std::uint32_t kGivenBack = std::numeric_limits<std::uint32_t>::max();
  if (prune && chosen.size() > 1) {
    std::uint64_t freed = 0;
    for (std::uint32_t i : chosen) freed += candidates[i].bytes;
    // The last victim was needed (before it too little was freed); an earlier one may not be.
    // Walk them from the most valuable back.
    for (std::size_t v = chosen.size() - 1; v-- > 0;) {
      const std::uint64_t bytes = candidates[chosen[v]].bytes;
      if (freed - bytes >= bytes_needed) {
        freed -= bytes;
        chosen[v] = kGivenBack;
      }
    }
  }
  for (std::uint32_t i : chosen) {
    if (i != kGivenBack) victims.push_back(candidates[i].model);
  }
}

}  // namespace

CacePolicy::CacePolicy(std::unique_ptr<ContextScorer> scorer, CacePolicyOptions options)
    : scorer_(std::move(scorer)),
      options_(options),
      name_(PolicyName(*scorer_)),
      usage_(options.window),
      output_lengths_(options.output_prior) {}

void CacePolicy::set_scorer(std::unique_ptr<ContextScorer> scorer) {
  scorer_ = std::move(scorer);
  name_ = PolicyName(*scorer_);
  for (WindowReading& reading : readings_) reading.valid_through = kStale;
}

void CacePolicy::Grow(ModelHandle model) {
  if (model < profiles_.size()) return;
  const std::size_t size = std::size_t{model} + 1;
  profiles_.resize(size, UsageProfile{.window_seconds = options_.window.window,
                                      .horizon_seconds = options_.window.horizon,
                                      .expected_output_tokens = options_.output_prior});
  readings_.resize(size, WindowReading{.valid_through = kStale});
  read_bucket_.resize(size, 0);
  terms_.resize(size);
  queued_.resize(size, 0);
  first_position_.resize(size, -1);
}

void CacePolicy::OnAccess(const AccessEvent& event) {
  usage_.Record(event.model, event.kind, event.time);
  Grow(event.model);
  readings_[event.model].valid_through = kStale;
}

void CacePolicy::OnComplete(const CompletionEvent& event) {
  output_lengths_.Observe(event.model, event.kind, event.output_tokens);
  Grow(event.model);
  for (TaskKind kind : kAllTaskKinds) {
    profiles_[event.model].expected_output_tokens[KindIndex(kind)] =
        output_lengths_.Expected(event.model, kind);
  }
  readings_[event.model].valid_through = kStale;
}

LearnedUsage CacePolicy::ExportUsage(ModelHandle model, Seconds now) const {
  LearnedUsage learned;
  learned.window_counts = usage_.Counts(model, now);
  learned.mean_gap_seconds = usage_.MeanInterArrival(model);
  const Seconds last = usage_.LastArrival(model);
  learned.idle_seconds = last < 0 ? -1.0 : std::max(0.0, now - last);
  for (TaskKind kind : kAllTaskKinds) {
    learned.output_mean[KindIndex(kind)] = output_lengths_.LearnedMean(model, kind);
    learned.output_samples[KindIndex(kind)] = output_lengths_.Samples(model, kind);
  }
  return learned;
}

void CacePolicy::RestoreUsage(ModelHandle model, const LearnedUsage& learned, Seconds now) {
  // A fresh clock may start near 0: the last use is placed no earlier than its start.
  if (learned.idle_seconds >= 0) {
    usage_.Restore(model, learned.window_counts, learned.mean_gap_seconds,
                   std::max(0.0, now - learned.idle_seconds));
  }
  Grow(model);
  for (TaskKind kind : kAllTaskKinds) {
    const int k = KindIndex(kind);
    output_lengths_.Restore(model, kind, learned.output_mean[k], learned.output_samples[k]);
    profiles_[model].expected_output_tokens[k] = output_lengths_.Expected(model, kind);
  }
  readings_[model].valid_through = kStale;
}

void CacePolicy::Refresh(ModelHandle model, std::int64_t now_bucket) {
  const WindowReading reading = usage_.Read(model, now_bucket);
  readings_[model] = reading;
  read_bucket_[model] = now_bucket;
  profiles_[model].window_counts = reading.counts;
  terms_[model] = scorer_->Terms(profiles_[model]);
}

int CacePolicy::QueueWindow(const EvictionRequest& request) const {
  return static_cast<int>(std::min<std::size_t>(request.upcoming.size(),
                                                static_cast<std::size_t>(options_.queue_window)));
}

void CacePolicy::CountQueue(const EvictionRequest& request) {
  const auto window = static_cast<std::size_t>(QueueWindow(request));
  for (std::size_t i = 0; i < window; ++i) {
    const ModelHandle m = request.upcoming[i];
    if (m >= queued_.size()) continue;  // not a candidate
    ++queued_[m];
    if (first_position_[m] < 0) first_position_[m] = static_cast<int>(i);
  }
}

void CacePolicy::UncountQueue(const EvictionRequest& request) {
  const auto window = static_cast<std::size_t>(QueueWindow(request));
  for (std::size_t i = 0; i < window; ++i) {
    const ModelHandle m = request.upcoming[i];
    if (m >= queued_.size()) continue;
    queued_[m] = 0;
    first_position_[m] = -1;
  }
}

void CacePolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  const std::span<const Candidate> candidates = request.candidates;
  const std::size_t n = candidates.size();
  if (n == 0) return;
  ModelHandle max_model = 0;
  for (const Candidate& c : candidates) max_model = std::max(max_model, c.model);
  Grow(max_model);

  const std::int64_t now_bucket = usage_.Bucket(request.now);
  predicted_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const ModelHandle m = candidates[i].model;
    if (now_bucket < read_bucket_[m] || now_bucket > readings_[m].valid_through) {
      Refresh(m, now_bucket);
    }
    predicted_[i] = usage_.PredictedDemand(m, readings_[m], request.now);
  }
  keys_.resize(n);
  CountQueue(request);
  scorer_->KeepValues(CandidateBatch{candidates, request.now, predicted_, profiles_, terms_,
                                     queued_, first_position_, QueueWindow(request)},
                      keys_);
  UncountQueue(request);
  const std::size_t k = OrderLowestKeys(candidates, keys_, request.bytes_needed, order_);
  AppendVictims(candidates, std::span(order_).first(k), request.bytes_needed,
                options_.prune_unneeded_victims, victims);
}

}  // namespace cace
