// The eviction policies cace ships. Each is small; see eviction_policy.h for the contract.
#ifndef CACE_POLICIES_H_
#define CACE_POLICIES_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cace/context_scorer.h"
#include "cace/eviction_policy.h"
#include "cace/task_context.h"
#include "cace/usage_window.h"

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
// estimator that this policy keeps up to date from the access and completion events.
class CacePolicy final : public EvictionPolicy {
 public:
  explicit CacePolicy(std::unique_ptr<ContextScorer> scorer = std::make_unique<CaceScorer>(),
                      CacePolicyOptions options = {});
  std::string_view name() const override { return name_; }
  void OnAccess(const AccessEvent& event) override;
  void OnComplete(const CompletionEvent& event) override;
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override;

  // The context the scorer sees for one candidate; exposed for tests, tools and adaptation.
  ModelContext ContextOf(const Candidate& candidate, const EvictionRequest& request) const;
  ContextScorer& scorer() { return *scorer_; }
  const UsageWindow& usage() const { return usage_; }

 private:
  void CountQueue(const EvictionRequest& request);

  std::unique_ptr<ContextScorer> scorer_;
  CacePolicyOptions options_;
  std::string name_;
  UsageWindow usage_;
  OutputLengthEstimator output_lengths_;
  std::vector<double> keys_;
  std::vector<std::uint32_t> order_;
  std::vector<int> queued_;          // per model, filled per decision from request.upcoming
  std::vector<int> first_position_;
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

#endif  // CACE_POLICIES_H_
