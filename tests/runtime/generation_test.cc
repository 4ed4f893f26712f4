// The generation loop on a tiny random model: greedy output equals argmax of the backend's
// logits step by step; stop tokens, stop strings and max length end a sequence; a batch of
// sequences produces what each produces alone.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/generation.h"
#include "tests/runtime/random_model.h"

namespace cace {
namespace {

std::unique_ptr<CpuBackend> MakeBackend() {
  return *CpuBackend::Create(testing::MakeRandomModel({}), {.threads = 2});
}

std::vector<std::int32_t> Run(Backend& backend, std::vector<std::int32_t> prompt, GenerationOptions options,
                              TokenText text = nullptr, FinishReason* reason = nullptr, std::string* out_text = nullptr) {
  auto seq = Sequence::Start(&backend, std::move(prompt), std::move(options), nullptr, std::move(text));
  REQUIRE(seq.ok());
  Sequence* p = seq->get();
  REQUIRE(GenerateAll(backend, {&p, 1}).ok());
  if (reason) *reason = (*seq)->finish_reason();
  if (out_text) *out_text = (*seq)->text();
  return (*seq)->output();
}

TEST_CASE("Greedy generation follows the argmax of full recomputation", "[generation]") {
  auto backend = MakeBackend();
  const std::vector<std::int32_t> prompt = {5, 9, 13};
  FinishReason reason;
  const auto out = Run(*backend, prompt, {.max_new_tokens = 12}, nullptr, &reason);
  REQUIRE(out.size() == 12);
  CHECK(reason == FinishReason::kMaxTokens);
  // Recompute each step from scratch with a fresh cache.
  std::vector<std::int32_t> context = prompt;
  for (std::int32_t token : out) {
    auto cache = *backend->NewSequence(32, nullptr);
    SequenceStep step{cache.get(), context};
    std::vector<float> logits;
    REQUIRE(backend->Forward({&step, 1}, LogitsMode::kLast, &logits).ok());
    REQUIRE(Argmax(logits) == token);
    context.push_back(token);
  }
}

TEST_CASE("A stop token ends the sequence and is not output", "[generation]") {
  auto backend = MakeBackend();
  const auto free_run = Run(*backend, {1, 2}, {.max_new_tokens = 10});
  FinishReason reason;
  const auto out = Run(*backend, {1, 2}, {.max_new_tokens = 10, .stop_tokens = {free_run[3]}}, nullptr, &reason);
  CHECK(reason == FinishReason::kStopToken);
  // Output is the free run up to the first occurrence of the stop token.
  std::size_t first = 0;
  while (free_run[first] != free_run[3]) ++first;
  CHECK(out == std::vector<std::int32_t>(free_run.begin(), free_run.begin() + static_cast<std::ptrdiff_t>(first)));
}

TEST_CASE("A stop string ends the sequence and is cut from the text", "[generation]") {
  auto backend = MakeBackend();
  const TokenText text = [](std::int32_t t) { return "<" + std::to_string(t) + ">"; };
  const auto free_run = Run(*backend, {4, 4}, {.max_new_tokens = 8});
  // Stop at a string spanning the boundary of output tokens 1 and 2.
  const std::string stop = std::to_string(free_run[1]) + "><" + std::to_string(free_run[2]);
  FinishReason reason;
  std::string got;
  const auto out = Run(*backend, {4, 4}, {.max_new_tokens = 8, .stop_strings = {stop}}, text, &reason, &got);
  CHECK(reason == FinishReason::kStopString);
  CHECK(out.size() == 3);
  CHECK(got == "<" + std::to_string(free_run[0]) + "><");
}

TEST_CASE("A batch of sequences produces what each produces alone", "[generation]") {
  auto backend = MakeBackend();
  const GenerationOptions greedy{.max_new_tokens = 6};
  const GenerationOptions sampled{.max_new_tokens = 9, .sampling = {.temperature = 0.8f, .top_k = 10, .seed = 3}};
  const auto alone1 = Run(*backend, {1, 2, 3}, greedy);
  const auto alone2 = Run(*backend, {60, 2, 30, 31, 32}, sampled);
  auto s1 = *Sequence::Start(backend.get(), {1, 2, 3}, greedy);
  auto s2 = *Sequence::Start(backend.get(), {60, 2, 30, 31, 32}, sampled);
  Sequence* both[] = {s1.get(), s2.get()};
  REQUIRE(GenerateAll(*backend, both).ok());
  CHECK(s1->output() == alone1);
  CHECK(s2->output() == alone2);
}

TEST_CASE("Bad generation requests are refused", "[generation]") {
  auto backend = MakeBackend();
  CHECK(Sequence::Start(backend.get(), {}, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Sequence::Start(backend.get(), {99}, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Sequence::Start(backend.get(), {1}, {.max_new_tokens = 0}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Sequence::Start(backend.get(), {1}, {.max_new_tokens = 65}).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(Sequence::Start(backend.get(), {1}, {.stop_strings = {"x"}}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cace
