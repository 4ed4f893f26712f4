#include "cace/task_context.h"

#include <algorithm>
#include <array>

namespace cace {

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kCompletion: return "completion";
    case TaskKind::kChat: return "chat";
    case TaskKind::kReasoning: return "reasoning";
  }
  return "unknown";
}

bool ContainsFimMarkers(std::string_view prompt) {
  // One marker per family is enough: a FIM prompt always carries its prefix (or middle) token.
  static constexpr std::array<std::string_view, 6> kMarkers = {
      "<fim_prefix>",        // StarCoder, StarCoder2
      "<|fim_prefix|>",      // Qwen2.5-Coder
      "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",  // DeepSeek-Coder: <｜fim▁begin｜>
      "<PRE>",               // CodeLlama
      "[PREFIX]",            // Codestral
      "<|fim_middle|>",      // Qwen2.5-Coder, middle-only templates
  };
  for (std::string_view marker : kMarkers) {
    if (prompt.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

TaskKind TaskClassifier::Classify(const RequestFeatures& features) const {
  if (features.hint) return *features.hint;
  if (features.has_fim_markers) return TaskKind::kCompletion;
  const bool limited = features.max_tokens > 0;
  if (limited && features.max_tokens <= options_.completion_max_tokens) return TaskKind::kCompletion;
  if (limited && features.max_tokens >= options_.reasoning_min_tokens) return TaskKind::kReasoning;
  if (!limited && features.prompt_tokens >= options_.reasoning_min_prompt_tokens) {
    return TaskKind::kReasoning;
  }
  return TaskKind::kChat;
}

void OutputLengthEstimator::Observe(ModelHandle model, TaskKind kind, std::uint32_t output_tokens) {
  if (model >= stats_.size()) stats_.resize(model + 1);
  Stat& s = stats_[model][KindIndex(kind)];
  ++s.samples;
  // A plain mean while 1/samples is larger than the smoothing weight, then an exponential mean.
  const double weight = std::max(kSmoothing, 1.0 / s.samples);
  s.mean += weight * (static_cast<double>(output_tokens) - s.mean);
}

std::uint32_t OutputLengthEstimator::Samples(ModelHandle model, TaskKind kind) const {
  return model < stats_.size() ? stats_[model][KindIndex(kind)].samples : 0;
}

double OutputLengthEstimator::LearnedMean(ModelHandle model, TaskKind kind) const {
  return model < stats_.size() ? stats_[model][KindIndex(kind)].mean : 0.0;
}

void OutputLengthEstimator::Restore(ModelHandle model, TaskKind kind, double mean, std::uint32_t samples) {
  if (model >= stats_.size()) stats_.resize(model + 1);
  stats_[model][KindIndex(kind)] = Stat{samples > 0 ? mean : 0.0, samples};
}

double OutputLengthEstimator::Expected(ModelHandle model, TaskKind kind) const {
  if (model < stats_.size()) {
    const Stat& s = stats_[model][KindIndex(kind)];
    if (s.samples > 0) return s.mean;
  }
  return prior_[KindIndex(kind)];
}

}  // namespace cace
