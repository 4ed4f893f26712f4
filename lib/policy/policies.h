// The eviction policies cace ships. Each is small; see eviction_policy.h for the contract.
#ifndef CACE_LIB_POLICY_POLICIES_H_
#define CACE_LIB_POLICY_POLICIES_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cace/context_scorer.h"
#include "cace/eviction_policy.h"
#include "cace/task_context.h"
#include "lib/policy/usage_window.h"

namespace cace {

// Least recently used first (llama.cpp's router, most model-swapping proxies).
class LruPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "lru"; }
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

 private:
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
};

// Least frequently used first, counting every request ever made to the model (not reset by
// eviction: a popular model evicted once stays popular); ties by least recent use.
class LfuPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "lfu"; }
  void OnAccess(const AccessEvent& event) override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

 private:
  std::vector<std::uint64_t> counts_;
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
};

// Greedy-Dual-Size-Frequency: priority H = L + frequency * cost / size, with cost the reload
// seconds and size in GiB; L rises to the priority of each evicted model, so models that stopped
// being used age out. Frequency counts requests since the model was last loaded.
class GdsfPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "gdsf"; }
  void OnAccess(const AccessEvent& event) override;
  void OnEvict(ModelHandle model, Seconds now) override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

 private:
  double inflation_ = 0.0;  // L
  std::vector<std::uint64_t> frequency_;
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
};

// Ollama's rule: every model has a keep-alive (5 minutes by default); models idle past it go
// first, then the shortest keep-alive, then by name. IdleTimeout tells the engine to unload a model
// once its keep-alive has passed, as Ollama does.
class KeepAlivePolicy final : public EvictionPolicy {
 public:
  static constexpr Seconds kDefaultKeepAlive = 300.0;
  explicit KeepAlivePolicy(Seconds default_keep_alive = kDefaultKeepAlive)
      : default_keep_alive_(default_keep_alive) {}
  std::string_view name() const override { return "keep-alive"; }
  void OnRegister(ModelHandle model, const ModelSpec& spec) override;
  void set_keep_alive(ModelHandle model, Seconds keep_alive);
  Seconds keep_alive(ModelHandle model) const;
  Seconds IdleTimeout(ModelHandle model) const override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

 private:
  Seconds default_keep_alive_;
  std::vector<Seconds> keep_alive_;
  std::vector<std::string> names_;
  std::vector<std::uint32_t> name_rank_;  // position of each model's name in name order
  bool ranks_stale_ = false;
  struct SortKey {
    bool unexpired;  // expired models go first
    Seconds keep_alive;
    std::uint32_t name_rank;
    ModelHandle model;
  };
  std::vector<SortKey> keys_;
  std::vector<std::uint32_t> order_;
};

struct CacePolicyOptions {
  UsageWindowOptions window;
  PerKind<double> output_prior = OutputLengthEstimator::kDefaultPrior;
  // How many queued requests the policy looks at (the "window of upcoming requests").
  int queue_window = 64;
  // After choosing, give back any victim whose eviction turned out not to be needed (a large
  // victim chosen late can make earlier small ones unnecessary).
  bool prune_unneeded_victims = true;
};

// CACE: evicts the candidates with the lowest keep-value under a ContextScorer (CaceScorer by
// default, PaperScorer for the summaries' formula), fed by a usage window and an output-length
// estimator that this policy keeps up to date from the access and completion events. Each model's
// UsageProfile, and what the scorer derives from it, is kept until an event changes it or the
// window moves on past a bucket that held requests, so that decisions mostly read them.
class CacePolicy final : public EvictionPolicy {
 public:
  explicit CacePolicy(std::unique_ptr<ContextScorer> scorer = std::make_unique<CaceScorer>(),
                      CacePolicyOptions options = {});
  std::string_view name() const override { return name_; }
  void OnAccess(const AccessEvent& event) override;
  void OnComplete(const CompletionEvent& event) override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

  // Scores with `scorer` from now on (the adaptive policy's new weights).
  void set_scorer(std::unique_ptr<ContextScorer> scorer);
  const UsageWindow& usage() const { return usage_; }
  LearnedUsage ExportUsage(ModelHandle model, Seconds now) const override;
  void RestoreUsage(ModelHandle model, const LearnedUsage& usage, Seconds now) override;

 private:
  void Grow(ModelHandle model);
  // Reads the model's window as of `now_bucket` into its profile, and the scorer's terms of it.
  void Refresh(ModelHandle model, std::int64_t now_bucket);
  int QueueWindow(const EvictionRequest& request) const;
  // Counts the queued requests per model, and sets the counts back to none after the decision
  // (so that a decision costs the queue window, not a pass over every model).
  void CountQueue(const EvictionRequest& request);
  void UncountQueue(const EvictionRequest& request);

  std::unique_ptr<ContextScorer> scorer_;
  CacePolicyOptions options_;
  std::string name_;
  UsageWindow usage_;
  OutputLengthEstimator output_lengths_;
  // Per model: its profile, the window reading it holds, valid from read_bucket_ through
  // reading.valid_through (a stale entry has valid_through = lowest), and the scorer's terms.
  std::vector<UsageProfile> profiles_;
  std::vector<WindowReading> readings_;
  std::vector<std::int64_t> read_bucket_;
  std::vector<ProfileTerms> terms_;
  std::vector<int> queued_;          // per model, counted from request.upcoming during a decision
  std::vector<int> first_position_;
  // Per candidate of a decision.
  std::vector<double> predicted_;
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
};

struct AdaptiveCaceOptions {
  CacePolicyOptions base;
  CaceWeights initial;
  std::uint64_t capacity_bytes = 0;  // the memory budget the shadow replays assume
  Seconds period = 300;              // how often the weights are reconsidered
  Seconds history = 900;             // how much recent traffic each shadow replay covers
  double step = 0.5;                 // candidate weights: each one scaled by (1 - step), (1 + step)
  // false: the shadow replays run inside the OnAccess that finds them due (the simulator, whose
  // virtual clock does not see their cost). true: OnAccess only notes that they are due, and the
  // driver takes them (TakeAdaptation) to run off the request path, then hands back the result
  // (ApplyAdaptation); the engine does so on a thread of its own.
  bool deferred = false;
};

// CACE with weights adapted online. Every `period` it replays the last `history` seconds of
// requests through a shadow cache of the same capacity and model sizes (loads instantaneous),
// once with the current weights and once per candidate (each tunable weight scaled down and up),
// each with a fresh CACE policy fed the same events, and scores each run by its latency-weighted
// reload cost: the sum over misses of the model's load seconds times the latency sensitivity of
// the request's kind. The best candidate becomes the current weights (a tie keeps them).
class AdaptiveCacePolicy final : public EvictionPolicy {
 private:
  struct Logged {
    bool completion;  // an OnComplete event, else an OnAccess
    ModelHandle model;
    TaskKind kind;
    Seconds time;
    std::uint32_t output_tokens;
  };

 public:
  // One round of shadow replays, self-contained (a copy of the recent traffic, the models' sizes
  // and load times, the weights in force), so Run() may go on any thread while the policy serves.
  class Adaptation {
   public:
    // The best of the current weights and their candidates (a tie keeps the current ones).
    CaceWeights Run() const;

   private:
    friend class AdaptiveCacePolicy;
    double ShadowCost(const CaceWeights& weights) const;
    AdaptiveCaceOptions options;
    CaceWeights current;
    std::vector<Logged> log;
    std::vector<std::uint64_t> bytes;
    std::vector<Seconds> load_seconds;
  };

  explicit AdaptiveCacePolicy(AdaptiveCaceOptions options);
  std::string_view name() const override { return "cace-adaptive"; }
  void OnRegister(ModelHandle model, const ModelSpec& spec) override;
  void OnAccess(const AccessEvent& event) override;
  void OnComplete(const CompletionEvent& event) override;
  void OnLoad(ModelHandle model, Seconds now) override { live_.OnLoad(model, now); }
  void OnEvict(ModelHandle model, Seconds now) override { live_.OnEvict(model, now); }
  LearnedUsage ExportUsage(ModelHandle model, Seconds now) const override { return live_.ExportUsage(model, now); }
  void RestoreUsage(ModelHandle model, const LearnedUsage& usage, Seconds now) override {
    live_.RestoreUsage(model, usage, now);
  }
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

  const CaceWeights& weights() const { return weights_; }
  int adaptations() const { return adaptations_; }  // how many times the weights changed

  // With options.deferred: the round of shadow replays that is due, once; nothing when none is.
  std::optional<Adaptation> TakeAdaptation();
  // Scores with `weights` from now on (a round's result); counts an adaptation when they differ.
  void ApplyAdaptation(const CaceWeights& weights);

 private:
  Adaptation MakeAdaptation() const;

  AdaptiveCaceOptions options_;
  CaceWeights weights_;
  CacePolicy live_;
  std::vector<std::uint64_t> bytes_;
  std::vector<Seconds> load_seconds_;
  std::deque<Logged> log_;
  Seconds last_adaptation_ = 0;
  bool adaptation_due_ = false;  // deferred mode: a round waits to be taken
  int adaptations_ = 0;
};

// The offline bound: knows the whole future sequence of requests (their models, in arrival order)
// and evicts the candidate whose next use is farthest away per second of reload cost; never used
// again counts as infinitely far. With equal sizes and costs this is Belady's optimal rule.
// For benchmarks only: no online policy can know the future.
class OraclePolicy final : public EvictionPolicy {
 public:
  explicit OraclePolicy(std::vector<ModelHandle> future_requests);
  std::string_view name() const override { return "oracle"; }
  // Must be told every request, in the order of `future_requests`.
  void OnAccess(const AccessEvent& event) override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;
  // Prefetches the model needed soonest; none when no candidate is needed again.
  std::optional<ModelHandle> PickPrefetch(std::span<const Candidate> absent, Seconds now) override;

 private:
  std::uint64_t NextUse(ModelHandle model) const;

  std::vector<ModelHandle> future_;
  std::uint64_t cursor_ = 0;                            // requests seen so far
  std::vector<std::vector<std::uint64_t>> positions_;  // per model, its request indices
  std::vector<std::size_t> next_;                      // per model, index into positions_
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
};

}  // namespace cace

#endif  // CACE_LIB_POLICY_POLICIES_H_
