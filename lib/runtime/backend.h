// What every backend (CPU, CUDA) offers the generation loop: per-sequence KV caches on its own
// memory, and one forward pass over a batch of sequences, each bringing any number of new tokens
// (a whole prompt at prefill, one token at decode), so prefill and decode of several sequences of
// the same model can share one pass.
#ifndef CACE_LIB_RUNTIME_BACKEND_H_
#define CACE_LIB_RUNTIME_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/runtime/kv_cache.h"
#include "lib/runtime/model_weights.h"

namespace cace {

struct SequenceStep {
  KvCache* cache = nullptr;              // the sequence; tokens[0] goes at position cache->length()
  std::span<const std::int32_t> tokens;  // at least one
};

enum class LogitsMode : std::uint8_t {
  kLast,  // one row of vocab_size logits per step: after its last token
  kAll,   // one row per token, steps in order
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;
  virtual const LlamaShape& shape() const = 0;

  // An empty cache for one sequence of up to `capacity` tokens, from `pool` when it is not null
  // (it must be on this backend's kind of memory), else from memory the backend allocates.
  virtual absl::StatusOr<std::unique_ptr<KvCache>> NewSequence(std::int64_t capacity, MemoryPool* pool) = 0;

  // Runs every step's tokens through the model, appends their keys and values to the step's cache
  // and replaces *logits with the rows `mode` asks for. Steps must name distinct caches made by
  // this backend with room for their tokens; on any error no cache changes.
  virtual absl::Status Forward(std::span<const SequenceStep> steps, LogitsMode mode, std::vector<float>* logits) = 0;

  // The bytes this backend really holds, for the registry: its weights' memory (the model's pool
  // allocation), the K/V memory of its live sequences, and its activation buffers (outside the
  // pool; they grow to the largest batch seen and stay). Safe to read from any thread.
  virtual std::uint64_t weight_bytes() const = 0;
  std::uint64_t kv_bytes() const { return live_kv_bytes_->load(); }
  std::uint64_t workspace_bytes() const { return workspace_bytes_.load(); }
  // K and V of one token of one sequence over every layer, as NewSequence allocates them.
  std::uint64_t kv_bytes_per_token() const { return KvLayout{shape().n_layers, 1, shape().kv_dim()}.Bytes(); }

 protected:
  // Stamps a cache NewSequence made as this backend's and counts it in kv_bytes() until it ends.
  void Adopt(KvCache& cache) { cache.Adopt(this, live_kv_bytes_); }
  // Forward records the bytes of its activation buffers after sizing them.
  void set_workspace_bytes(std::uint64_t bytes) { workspace_bytes_.store(bytes); }

 private:
  // Shared with the caches, which may outlive the backend.
  std::shared_ptr<std::atomic<std::uint64_t>> live_kv_bytes_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::atomic<std::uint64_t> workspace_bytes_{0};
};

// The checks every backend's Forward makes before touching anything: non-empty steps, distinct
// caches of `owner`, token ids in [0, vocab), room in the cache and within max_positions.
absl::Status ValidateSteps(const LlamaShape& shape, const void* owner, std::span<const SequenceStep> steps);

// The number of new tokens over all steps.
std::int64_t TotalTokens(std::span<const SequenceStep> steps);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_BACKEND_H_
