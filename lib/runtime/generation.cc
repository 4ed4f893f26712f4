#include "lib/runtime/generation.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cace {

absl::StatusOr<std::unique_ptr<Sequence>> Sequence::Start(Backend* backend, std::vector<std::int32_t> prompt,
                                                          GenerationOptions options, MemoryPool* pool, TokenText text) {
  if (backend == nullptr) return absl::InvalidArgumentError("generation: no backend given");
  if (prompt.empty()) return absl::InvalidArgumentError("generation: the prompt is empty");
  if (options.max_new_tokens <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("generation: max_new_tokens = ", options.max_new_tokens, " must be > 0"));
  }
  if (absl::Status st = ValidateSamplingOptions(options.sampling); !st.ok()) return st;
  if (!options.stop_strings.empty() && !text) {
    return absl::InvalidArgumentError("generation: stop strings need the tokenizer's token text");
  }
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) return absl::InvalidArgumentError("generation: a stop string is empty");
  }
  const std::int64_t vocab = backend->shape().vocab_size;
  for (std::int32_t token : prompt) {
    if (token < 0 || token >= vocab) {
      return absl::InvalidArgumentError(absl::StrCat("generation: prompt token ", token, " is outside the vocabulary of ", vocab));
    }
  }
  // The last sampled token is never fed back, so prompt + max_new_tokens - 1 positions suffice.
  const std::int64_t capacity = static_cast<std::int64_t>(prompt.size()) + options.max_new_tokens - 1;
  if (capacity > backend->shape().max_positions) {
    return absl::OutOfRangeError(absl::StrCat("generation: prompt of ", prompt.size(), " tokens plus max_new_tokens = ",
                                              options.max_new_tokens, " exceeds max_position_embeddings = ",
                                              backend->shape().max_positions));
  }
  absl::StatusOr<std::unique_ptr<KvCache>> cache = backend->NewSequence(capacity, pool);
  if (!cache.ok()) return cache.status();
  return std::unique_ptr<Sequence>(new Sequence(std::move(prompt), std::move(options), *std::move(cache), std::move(text)));
}

Sequence::Sequence(std::vector<std::int32_t> prompt, GenerationOptions options, std::unique_ptr<KvCache> cache,
                   TokenText text)
    : prompt_(std::move(prompt)),
      options_(std::move(options)),
      cache_(std::move(cache)),
      token_text_(std::move(text)),
      sampler_(options_.sampling) {}

std::span<const std::int32_t> Sequence::Pending() const {
  if (output_.empty()) return prompt_;
  return std::span<const std::int32_t>(output_).last(1);
}

void Sequence::Accept(std::int32_t token) {
  if (std::find(options_.stop_tokens.begin(), options_.stop_tokens.end(), token) != options_.stop_tokens.end()) {
    reason_ = FinishReason::kStopToken;
    return;
  }
  output_.push_back(token);
  if (token_text_) {
    const std::size_t old_size = text_.size();
    text_ += token_text_(token);
    for (const std::string& stop : options_.stop_strings) {
      // Only a match that ends in the new piece is new.
      const std::size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
      const std::size_t at = text_.find(stop, from);
      if (at != std::string::npos) {
        text_.resize(at);
        reason_ = FinishReason::kStopString;
        return;
      }
    }
  }
  if (static_cast<std::int64_t>(output_.size()) >= options_.max_new_tokens) reason_ = FinishReason::kMaxTokens;
}

absl::Status StepBatch(Backend& backend, std::span<Sequence* const> sequences) {
  std::vector<Sequence*> active;
  std::vector<SequenceStep> steps;
  for (Sequence* seq : sequences) {
    if (seq == nullptr || seq->finished()) continue;
    active.push_back(seq);
    steps.push_back(SequenceStep{seq->cache_.get(), seq->Pending()});
  }
  if (active.empty()) return absl::OkStatus();
  std::vector<float> logits;
  if (absl::Status st = backend.Forward(steps, LogitsMode::kLast, &logits); !st.ok()) return st;
  const std::size_t vocab = static_cast<std::size_t>(backend.shape().vocab_size);
  for (std::size_t i = 0; i < active.size(); ++i) {
    active[i]->Accept(active[i]->sampler_.Sample(std::span<const float>(logits).subspan(i * vocab, vocab)));
  }
  return absl::OkStatus();
}

absl::Status GenerateAll(Backend& backend, std::span<Sequence* const> sequences) {
  for (;;) {
    const bool running = std::any_of(sequences.begin(), sequences.end(),
                                     [](const Sequence* s) { return s != nullptr && !s->finished(); });
    if (!running) return absl::OkStatus();
    if (absl::Status st = StepBatch(backend, sequences); !st.ok()) return st;
  }
}

}  // namespace cace
