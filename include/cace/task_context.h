// Task context: what kind of work a request is, and how long its output is expected to run.
#ifndef CACE_TASK_CONTEXT_H_
#define CACE_TASK_CONTEXT_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cace/types.h"

namespace cace {

// The features of a request that the classifier reads; all are known when the request arrives.
struct RequestFeatures {
  std::uint32_t prompt_tokens = 0;
  std::uint32_t max_tokens = 0;       // 0: the client set no limit
  bool has_fim_markers = false;       // fill-in-the-middle prompt: an editor's completion
  std::optional<TaskKind> hint;       // the host's own word, when it has one
};

// True when `prompt` holds a fill-in-the-middle marker of a known code-model family (StarCoder,
// Qwen2.5-Coder, DeepSeek-Coder, CodeLlama, Codestral).
bool ContainsFimMarkers(std::string_view prompt);

struct ClassifierOptions {
  // A request with at most this many output tokens is a completion: editors ask for one line or a
  // short block (the Azure code trace's median output is 13 tokens).
  std::uint32_t completion_max_tokens = 64;
  // A request allowed at least this many output tokens is reasoning (long answers, plans, diffs).
  std::uint32_t reasoning_min_tokens = 1024;
  // A prompt at least this long with room for a long answer is reasoning over a large context.
  std::uint32_t reasoning_min_prompt_tokens = 8192;
};

// Rules, in order: the host's hint; FIM markers -> completion; a small max_tokens -> completion;
// a large max_tokens, or a large prompt with no small limit -> reasoning; otherwise chat.
class TaskClassifier {
 public:
  explicit TaskClassifier(ClassifierOptions options = {}) : options_(options) {}
  TaskKind Classify(const RequestFeatures& features) const;

 private:
  ClassifierOptions options_;
};

// Expected output tokens per model and kind, learned from finished requests: a plain mean over the
// first samples, then an exponentially weighted mean (so a model whose use changes is followed).
// Before any sample, a prior per kind.
class OutputLengthEstimator {
 public:
  static constexpr PerKind<double> kDefaultPrior = {16.0, 160.0, 600.0};
  static constexpr double kSmoothing = 0.05;  // weight of a new sample once warmed up

  explicit OutputLengthEstimator(PerKind<double> prior = kDefaultPrior) : prior_(prior) {}
  void Observe(ModelHandle model, TaskKind kind, std::uint32_t output_tokens);
  double Expected(ModelHandle model, TaskKind kind) const;
  // The learned mean and its samples (0: none, the prior holds), and their restoration after a
  // restart (samples 0 forgets the model's kind).
  std::uint32_t Samples(ModelHandle model, TaskKind kind) const;
  double LearnedMean(ModelHandle model, TaskKind kind) const;
  void Restore(ModelHandle model, TaskKind kind, double mean, std::uint32_t samples);

 private:
  struct Stat {
    double mean = 0.0;
    std::uint32_t samples = 0;
  };
  PerKind<double> prior_;
  std::vector<PerKind<Stat>> stats_;  // indexed by model handle, grown on demand
};

}  // namespace cace

#endif  // CACE_TASK_CONTEXT_H_
