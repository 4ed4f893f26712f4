// ContextScorer: turns what is known about one resident model into a keep-value. The CACE policy
// evicts the candidates with the lowest keep-values first.
#ifndef CACE_CONTEXT_SCORER_H_
#define CACE_CONTEXT_SCORER_H_

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "cace/eviction_policy.h"
#include "cace/types.h"

namespace cace {

// The part of a model's context that changes only when the model is used or finishes a request,
// or when its usage window moves on: far less often than decisions are made.
struct UsageProfile {
  PerKind<std::uint32_t> window_counts{};    // requests per kind in the usage window
  Seconds window_seconds = 1.0;
  Seconds horizon_seconds = 1.0;             // how far ahead predicted demand looks
  PerKind<double> expected_output_tokens{};  // per kind, learned from finished requests
};

// Everything a scorer may use about one candidate, gathered by the policy at decision time.
struct ModelContext {
  ModelHandle model = 0;
  std::uint64_t bytes = 0;               // freed by evicting it
  Seconds load_seconds = 0.0;            // measured cost of loading it again
  Seconds idle_seconds = 0.0;            // since its last use
  PerKind<std::uint32_t> window_counts{};  // requests per kind in the usage window
  Seconds window_seconds = 1.0;
  double predicted_demand = 0.0;         // expected requests in the next horizon
  Seconds horizon_seconds = 1.0;
  PerKind<double> expected_output_tokens{};  // per kind, learned from finished requests
  int queued_requests = 0;               // requests for it in the queue of upcoming requests
  int first_queue_position = -1;         // position of its first queued request; -1 if none
  int queue_window = 0;                  // size of that queue window
  Seconds drain_seconds = 0;             // a busy victim must drain first: its expected time

  UsageProfile usage() const {
    return {window_counts, window_seconds, horizon_seconds, expected_output_tokens};
  }
};

// What a scorer derives from one model's UsageProfile (ContextScorer::Terms), kept by the policy
// until the profile changes so that decisions do not derive it again for every candidate.
using ProfileTerms = std::array<double, 4>;

// One decision's candidates, laid out to be scored in one pass. Row i is candidates[i]; the spans
// marked "per model" are indexed by model handle and hold valid entries for the candidates' models.
struct CandidateBatch {
  std::span<const Candidate> candidates;
  Seconds now = 0.0;
  std::span<const double> predicted_demand;    // per row
  std::span<const UsageProfile> profiles;      // per model, as of `now`
  std::span<const ProfileTerms> terms;         // per model: the scorer's Terms of its profile
  std::span<const int> queued_requests;        // per model
  std::span<const int> first_queue_position;   // per model; -1 if none
  int queue_window = 0;

  // Row i as the ModelContext that KeepValue takes.
  ModelContext Context(std::size_t i) const;
};

// A scorer is defined by KeepValue. Decisions call the batch form, which a scorer may override to
// split its work: Terms computes what depends on the UsageProfile alone, and the policy calls it
// again whenever a model's profile changes (and only then); KeepValues then finishes every row of
// a decision in one pass, reading batch.terms[m], which are Terms(batch.profiles[m]). The two
// forms must agree bit for bit, so that which one ran never changes a decision.
class ContextScorer {
 public:
  virtual ~ContextScorer() = default;
  virtual std::string_view name() const = 0;
  // Higher means more worth keeping. Must be finite and deterministic.
  virtual double KeepValue(const ModelContext& context) const = 0;
  // The default derives nothing.
  virtual ProfileTerms Terms(const UsageProfile& /*profile*/) const { return {}; }
  // values[i] = KeepValue(batch.Context(i)) for every row; the default computes exactly that.
  virtual void KeepValues(const CandidateBatch& batch, std::span<double> values) const;
};

// The named weights of the CACE scorer; the defaults are the ones every benchmark reports.
struct CaceWeights {
  // How much each kind's requests suffer from a reload: a completion is waited on keystroke by
  // keystroke (1), a chat reply is read as it streams (0.5), reasoning is judged end to end (0.25).
  PerKind<double> latency_sensitivity = {1.0, 0.5, 0.25};
  // A reload costs a request relatively less when its output runs long: sensitivity is divided by
  // (1 + expected_output_tokens / output_scale). Infinity switches the factor off.
  double output_scale = 256.0;
  // Exponent on the reload cost (0 switches the factor off).
  double load_exponent = 1.0;
  // Exponent on the bytes freed: GDSF's "per byte" normalisation (0 switches it off). Off by
  // default: a load needs a given number of bytes and takes two or three of a few models, so
  // what a victim's loss costs is its whole cost, not its cost per byte; per byte made the large
  // chat models cycle. Measured (README, issue 12): on the default scenario over seeds 1-5 mean
  // TTFT 0.785 x LRU's against 0.818 per byte, and across the sweep 0.821 against 0.862.
  double size_exponent = 0.0;
  // Weights of the three demand signals, in expected requests over the horizon.
  double frequency_weight = 1.0;  // windowed use rate, scaled to the horizon
  double demand_weight = 1.0;     // predicted demand (inter-arrival based)
  double queue_weight = 2.0;      // requests already queued for it: certain demand
  // Demand floor, so that a model with no recent use still ranks by its reload cost.
  double base_demand = 0.05;
  // Prior weight of each kind in the mix before the window has seen the model.
  double kind_prior = 0.1;
  // A busy model can only be evicted by draining it, which holds up the load that needs its room
  // and every request queued behind that load: its drain costs drain_seconds for each of them.
  double drain_weight = 1.0;
};

// keep = (demand x reload_cost^load_exponent x sensitivity
//         + drain_weight x drain_seconds x max(1, queue_window)) / GiB^size_exponent
//   demand      = base_demand + frequency_weight * window_total * horizon / window
//                 + demand_weight * predicted_demand + queue_weight * queued_requests
//   sensitivity = sum_k mix_k * latency_sensitivity_k / (1 + expected_output_k / output_scale)
//   mix_k       = (window_counts_k + kind_prior) / sum_j (window_counts_j + kind_prior)
// That is the expected latency that evicting the model would add to the work predicted for it,
// weighted by how much that work's users feel latency, plus the wait its drain imposes on the
// queue, per byte it frees: the model whose loss costs least per byte goes first.
// Evaluated in two parts, with d_k = 1 + expected_output_k / output_scale. Terms, from the profile:
//   numerator   = sum_k (window_counts_k + kind_prior) * latency_sensitivity_k * prod_{j != k} d_j
//   denominator = window * prod_j d_j * sum_j (window_counts_j + kind_prior)
//   frequency   = frequency_weight * window_total * horizon
// (sensitivity = numerator / denominator * window: one division per candidate, not one per kind);
// then per candidate, with demand * window = (base_demand + demand_weight * predicted_demand
// + queue_weight * queued_requests) * window + frequency:
//   keep = (demand * window * reload_cost^load_exponent * numerator / denominator
//           + drain_weight * drain_seconds * max(1, queue_window)) / GiB^size_exponent.
class CaceScorer final : public ContextScorer {
 public:
  explicit CaceScorer(CaceWeights weights = {});
  std::string_view name() const override { return "cace"; }
  double KeepValue(const ModelContext& context) const override;
  ProfileTerms Terms(const UsageProfile& profile) const override;
  void KeepValues(const CandidateBatch& batch, std::span<double> values) const override;
  const CaceWeights& weights() const { return weights_; }

 private:
  // KeepValue, given the Terms of the context's profile.
  double Finish(const ProfileTerms& terms, double predicted_demand, int queued_requests,
                std::uint64_t bytes, Seconds load_seconds, Seconds drain_seconds,
                int queue_window) const;

  CaceWeights weights_;
  double inverse_output_scale_ = 0.0;
};

struct PaperWeights {
  double output_weight = 0.001;  // w1, per output token: 1,000 expected tokens weigh as one term
};

// The formula that summaries of the CACE paper give, score = 1/(1+ln t) + 1/(1+l/100) + i/w + w1*o,
// read as an EVICTION priority (highest evicted first), which is the reading under which three of
// its four terms point the sensible way as written: a cheap load (small l), a far next use (i/w
// near 1; 1 when the model is not in the window) and a long expected output o (less latency
// sensitive) all favour eviction. The recency term as written would evict the most recently used
// model first, so it is taken with its sense reversed: 1 - 1/(1+ln(1+t)), rising with idle time t.
// t and l are in seconds; o is the mean expected output over the kinds that used the model.
// KeepValue returns the negated priority. Terms holds o, which depends on the profile alone.
class PaperScorer final : public ContextScorer {
 public:
  explicit PaperScorer(PaperWeights weights = {}) : weights_(weights) {}
  std::string_view name() const override { return "paper"; }
  double KeepValue(const ModelContext& context) const override;
  ProfileTerms Terms(const UsageProfile& profile) const override;
  void KeepValues(const CandidateBatch& batch, std::span<double> values) const override;

 private:
  // KeepValue, given the Terms of the context's profile.
  double Finish(const ProfileTerms& terms, Seconds idle_seconds, Seconds load_seconds,
                int first_queue_position, int queue_window) const;

  PaperWeights weights_;
};

}  // namespace cace

#endif  // CACE_CONTEXT_SCORER_H_
