// CACE decides through kept profiles, a batch scorer pass and a partial selection. These tests
// check that it decides exactly as the straightforward way does: a ModelContext read afresh for
// every candidate, KeepValue on each, a full sort, on random states.
#include <algorithm>
#include <memory>
#include <random>

#include <catch2/catch.hpp>

#include "lib/policy/policies.h"

namespace cace {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// The straightforward decision, fed the same events as the policy under test.
class StraightforwardCace {
 public:
  StraightforwardCace(std::unique_ptr<ContextScorer> scorer, CacePolicyOptions options)
      : scorer_(std::move(scorer)),
        options_(options),
        window_(options.window),
        outputs_(options.output_prior) {}

  void OnAccess(const AccessEvent& e) { window_.Record(e.model, e.kind, e.time); }
  void OnComplete(const CompletionEvent& e) { outputs_.Observe(e.model, e.kind, e.output_tokens); }
  void set_scorer(std::unique_ptr<ContextScorer> scorer) { scorer_ = std::move(scorer); }

  std::vector<ModelHandle> ChooseVictims(const EvictionRequest& request) const {
    const std::size_t queue_window = std::min<std::size_t>(
        request.upcoming.size(), static_cast<std::size_t>(options_.queue_window));
    struct Scored {
      double key;
      Candidate candidate;
    };
    std::vector<Scored> scored;
    for (const Candidate& c : request.candidates) {
      ModelContext context;
      context.model = c.model;
      context.bytes = c.bytes;
      context.load_seconds = c.load_seconds;
      context.idle_seconds = std::max(0.0, request.now - c.last_use);
      context.window_counts = window_.Counts(c.model, request.now);
      context.window_seconds = options_.window.window;
      context.predicted_demand = window_.PredictedDemand(c.model, request.now);
      context.horizon_seconds = options_.window.horizon;
      for (TaskKind kind : kAllTaskKinds) {
        context.expected_output_tokens[KindIndex(kind)] = outputs_.Expected(c.model, kind);
      }
      for (std::size_t i = 0; i < queue_window; ++i) {
        if (request.upcoming[i] != c.model) continue;
        if (context.queued_requests++ == 0) context.first_queue_position = static_cast<int>(i);
      }
      context.queue_window = static_cast<int>(queue_window);
      context.drain_seconds = c.drain_seconds;
      scored.push_back({scorer_->KeepValue(context), c});
    }
    std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
      if (a.key != b.key) return a.key < b.key;
      if (a.candidate.last_use != b.candidate.last_use) {
        return a.candidate.last_use < b.candidate.last_use;
      }
      return a.candidate.model < b.candidate.model;
    });
    std::vector<Scored> chosen;
    std::uint64_t freed = 0;
    for (const Scored& s : scored) {
      if (freed >= request.bytes_needed) break;
      chosen.push_back(s);
      freed += s.candidate.bytes;
    }
    // Give back, from the most valuable but last, whatever turned out not to be needed.
    if (options_.prune_unneeded_victims && chosen.size() > 1) {
      for (std::size_t v = chosen.size() - 1; v-- > 0;) {
        if (freed - chosen[v].candidate.bytes >= request.bytes_needed) {
          freed -= chosen[v].candidate.bytes;
          chosen.erase(chosen.begin() + static_cast<std::ptrdiff_t>(v));
        }
      }
    }
    std::vector<ModelHandle> victims;
    for (const Scored& s : chosen) victims.push_back(s.candidate.model);
    return victims;
  }

 private:
  std::unique_ptr<ContextScorer> scorer_;
  CacePolicyOptions options_;
  UsageWindow window_;
  OutputLengthEstimator outputs_;
};

CaceWeights OddWeights() {
  CaceWeights w;
  w.load_exponent = 2.0;
  w.size_exponent = 0.5;
  w.output_scale = std::numeric_limits<double>::infinity();
  w.latency_sensitivity = {1.0, 0.75, 0.125};
  return w;
}

std::unique_ptr<ContextScorer> MakeScorer(int variant) {
  switch (variant) {
    case 0: return std::make_unique<CaceScorer>();
    case 1: return std::make_unique<CaceScorer>(OddWeights());
    default: return std::make_unique<PaperScorer>();
  }
}

// Runs one random sequence of events and decisions through the policy and the straightforward
// decision; returns how many decisions were compared.
int CompareOnRandomSequence(std::mt19937& rng, int variant, CacePolicyOptions options) {
  CacePolicy policy(MakeScorer(variant), options);
  StraightforwardCace reference(MakeScorer(variant), options);
  const int models = 2 + static_cast<int>(rng() % 60);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto pick_model = [&] { return static_cast<ModelHandle>(rng() % models); };
  auto pick_kind = [&] { return static_cast<TaskKind>(rng() % kTaskKindCount); };
  Seconds now = 0.0;
  int decisions = 0;
  for (int step = 0; step < 600; ++step) {
    // Mostly small steps, so that decisions share buckets; now and then a long idle gap.
    now += unit(rng) < 0.05 ? 400.0 * unit(rng) : 6.0 * unit(rng) * unit(rng);
    const double what = unit(rng);
    if (what < 0.55) {
      const AccessEvent e{pick_model(), pick_kind(), now};
      policy.OnAccess(e);
      reference.OnAccess(e);
    } else if (what < 0.75) {
      const CompletionEvent e{pick_model(), pick_kind(), now, static_cast<std::uint32_t>(rng() % 3000)};
      policy.OnComplete(e);
      reference.OnComplete(e);
    } else if (what < 0.77 && variant != 2) {
      const CaceWeights w = unit(rng) < 0.5 ? CaceWeights{} : OddWeights();
      policy.set_scorer(std::make_unique<CaceScorer>(w));
      reference.set_scorer(std::make_unique<CaceScorer>(w));
    } else {
      // Candidates: a random subset, with a few models never seen in any event, and some ties.
      std::vector<Candidate> candidates;
      std::uint64_t total = 0;
      for (int m = 0; m < models + 3; ++m) {
        if (unit(rng) < 0.3) continue;
        const std::uint64_t bytes = unit(rng) < 0.2 ? 4 * kGiB : (1 + rng() % 16) * kGiB / 2;
        const Seconds last_use = unit(rng) < 0.2 ? now - 5.0 : now - 300.0 * unit(rng);
        const Seconds drain = unit(rng) < 0.2 ? 30.0 * unit(rng) : 0.0;
        candidates.push_back({static_cast<ModelHandle>(m), bytes, last_use,
                              0.5 + static_cast<double>(bytes) / (5.0 * kGiB), drain > 0 ? 1 : 0,
                              drain});
        total += bytes;
      }
      if (candidates.empty()) continue;
      std::shuffle(candidates.begin(), candidates.end(), rng);
      std::vector<ModelHandle> upcoming(rng() % 100);
      for (ModelHandle& m : upcoming) m = static_cast<ModelHandle>(rng() % (models + 5));
      const std::uint64_t needed =
          1 + static_cast<std::uint64_t>(unit(rng) * unit(rng) * static_cast<double>(total));
      // Now and then a decision dated a little before the last events: readings of a later bucket
      // must not serve it.
      const Seconds at = unit(rng) < 0.1 ? now - 30.0 * unit(rng) : now;
      const EvictionRequest request{candidates, needed, at, upcoming};
      std::vector<ModelHandle> victims;
      policy.ChooseVictims(request, victims);
      REQUIRE(victims == reference.ChooseVictims(request));
      ++decisions;
    }
  }
  return decisions;
}

TEST_CASE("CACE decides exactly as the straightforward scoring of every candidate") {
  std::mt19937 rng(2024);
  int decisions = 0;
  for (int trial = 0; trial < 30; ++trial) {
    for (int variant = 0; variant < 3; ++variant) {
      INFO("trial " << trial << ", scorer variant " << variant);
      CacePolicyOptions options;
      options.prune_unneeded_victims = trial % 3 != 0;
      options.queue_window = trial % 2 == 0 ? 64 : 8;
      if (trial % 5 == 0) options.window = {.window = 60.0, .buckets = 7, .horizon = 20.0};
      decisions += CompareOnRandomSequence(rng, variant, options);
    }
  }
  CHECK(decisions > 10000);
}

// A scorer with only KeepValue: the default batch form must give the same.
class IdleFirstScorer final : public ContextScorer {
 public:
  std::string_view name() const override { return "idle-first"; }
  double KeepValue(const ModelContext& c) const override {
    return -c.idle_seconds + c.window_counts[0] + c.predicted_demand + c.queued_requests;
  }
};

TEST_CASE("a scorer with only KeepValue decides through the default batch form") {
  std::mt19937 rng(7);
  CacePolicy policy(std::make_unique<IdleFirstScorer>());
  StraightforwardCace reference(std::make_unique<IdleFirstScorer>(), {});
  for (int i = 0; i < 200; ++i) {
    const AccessEvent e{static_cast<ModelHandle>(rng() % 10), TaskKind::kCompletion, i * 3.0};
    policy.OnAccess(e);
    reference.OnAccess(e);
  }
  std::vector<Candidate> candidates;
  for (ModelHandle m = 0; m < 10; ++m) candidates.push_back({m, kGiB, 500.0 - m * 7.0, 1.0});
  const std::vector<ModelHandle> upcoming = {3, 3, 7};
  for (std::uint64_t needed : {kGiB, 3 * kGiB, 10 * kGiB}) {
    const EvictionRequest request{candidates, needed, 600.0, upcoming};
    std::vector<ModelHandle> victims;
    policy.ChooseVictims(request, victims);
    CHECK(victims == reference.ChooseVictims(request));
  }
}

}  // namespace
}  // namespace cace
