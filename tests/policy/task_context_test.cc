#include <catch2/catch.hpp>

#include "cace/task_context.h"

namespace cace {
namespace {

TEST_CASE("FIM markers of each code-model family are recognised") {
  CHECK(ContainsFimMarkers("<fim_prefix>def f(<fim_suffix>)<fim_middle>"));
  CHECK(ContainsFimMarkers("<|fim_prefix|>int main(<|fim_suffix|>"));
  CHECK(ContainsFimMarkers("<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>x = "));
  CHECK(ContainsFimMarkers("<PRE> def f(): <SUF> <MID>"));
  CHECK(ContainsFimMarkers("[SUFFIX]return x[PREFIX]def f():"));
  CHECK_FALSE(ContainsFimMarkers("Explain what this function does: def f(x): return x"));
  CHECK_FALSE(ContainsFimMarkers(""));
}

TEST_CASE("the classifier follows its rules in order") {
  TaskClassifier classifier;
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 2000, .has_fim_markers = true}) ==
        TaskKind::kCompletion);
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 32}) == TaskKind::kCompletion);
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 64}) == TaskKind::kCompletion);
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 65}) == TaskKind::kChat);
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 4096}) == TaskKind::kReasoning);
  CHECK(classifier.Classify({.prompt_tokens = 100, .max_tokens = 0}) == TaskKind::kChat);
  CHECK(classifier.Classify({.prompt_tokens = 20000, .max_tokens = 0}) == TaskKind::kReasoning);
  CHECK(classifier.Classify({.prompt_tokens = 20000, .max_tokens = 16}) == TaskKind::kCompletion);
  CHECK(classifier.Classify({.prompt_tokens = 5, .max_tokens = 16, .has_fim_markers = true,
                             .hint = TaskKind::kReasoning}) == TaskKind::kReasoning);
  TaskClassifier strict({.completion_max_tokens = 16});
  CHECK(strict.Classify({.prompt_tokens = 100, .max_tokens = 32}) == TaskKind::kChat);
}

TEST_CASE("expected output length starts at the prior, then follows what finished requests did") {
  OutputLengthEstimator estimator;
  CHECK(estimator.Expected(3, TaskKind::kCompletion) == OutputLengthEstimator::kDefaultPrior[0]);
  CHECK(estimator.Expected(3, TaskKind::kReasoning) == OutputLengthEstimator::kDefaultPrior[2]);
  estimator.Observe(3, TaskKind::kChat, 100);
  estimator.Observe(3, TaskKind::kChat, 300);
  CHECK(estimator.Expected(3, TaskKind::kChat) == Approx(200.0));  // plain mean while young
  CHECK(estimator.Expected(3, TaskKind::kCompletion) == OutputLengthEstimator::kDefaultPrior[0]);
  CHECK(estimator.Expected(0, TaskKind::kChat) == OutputLengthEstimator::kDefaultPrior[1]);
  for (int i = 0; i < 500; ++i) estimator.Observe(3, TaskKind::kChat, 50);
  CHECK(estimator.Expected(3, TaskKind::kChat) == Approx(50.0).margin(0.5));  // follows a change
}

}  // namespace
}  // namespace cace
