// The generation loop: a sequence is a prompt, its KV cache, its sampler and what it produced so
// far. StepBatch advances any set of sequences of one model by one forward pass (prefill for those
// that have not started, one decode token for the others), so an engine can add and retire
// sequences between steps (continuous batching).
#ifndef CACE_LIB_RUNTIME_GENERATION_H_
#define CACE_LIB_RUNTIME_GENERATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/runtime/backend.h"
#include "lib/runtime/sampler.h"

namespace cace {

struct GenerationOptions {
  std::int64_t max_new_tokens = 128;
  std::vector<std::int32_t> stop_tokens;  // ends the sequence; not part of the output
  std::vector<std::string> stop_strings;  // ends it once the output text contains one; cut from the text
  SamplingOptions sampling;
};

enum class FinishReason : std::uint8_t { kRunning, kStopToken, kStopString, kMaxTokens };

// The text of one token (the tokenizer's decoder), needed only for stop strings.
using TokenText = std::function<std::string(std::int32_t)>;

class Sequence {
 public:
  // Checks the options and the prompt, and takes a KV cache for prompt + max_new_tokens positions
  // from the backend (from `pool` when not null). `text` may be empty when there are no stop strings.
  static absl::StatusOr<std::unique_ptr<Sequence>> Start(Backend* backend, std::vector<std::int32_t> prompt,
                                                         GenerationOptions options, MemoryPool* pool = nullptr,
                                                         TokenText text = nullptr);

  bool finished() const { return reason_ != FinishReason::kRunning; }
  FinishReason finish_reason() const { return reason_; }
  const std::vector<std::int32_t>& prompt() const { return prompt_; }
  const std::vector<std::int32_t>& output() const { return output_; }
  // The output's text up to (not including) a stop string; empty without a TokenText.
  const std::string& text() const { return text_; }

 private:
  friend absl::Status StepBatch(Backend& backend, std::span<Sequence* const> sequences);
  Sequence(std::vector<std::int32_t> prompt, GenerationOptions options, std::unique_ptr<KvCache> cache, TokenText text);

  // The tokens the next forward pass feeds: the prompt, then the last sampled token.
  std::span<const std::int32_t> Pending() const;
  void Accept(std::int32_t token);

  std::vector<std::int32_t> prompt_;
  GenerationOptions options_;
  std::unique_ptr<KvCache> cache_;
  TokenText token_text_;
  Sampler sampler_;
  std::vector<std::int32_t> output_;
  std::string text_;
  FinishReason reason_ = FinishReason::kRunning;
};

// One forward pass over every unfinished sequence among `sequences` (all of this backend), then one
// sampled token for each. Finished sequences are skipped. On error no sequence changes.
absl::Status StepBatch(Backend& backend, std::span<Sequence* const> sequences);

// Steps until every sequence has finished.
absl::Status GenerateAll(Backend& backend, std::span<Sequence* const> sequences);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_GENERATION_H_
