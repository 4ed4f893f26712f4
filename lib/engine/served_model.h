// One model as the engine serves it: what AddModel reads from its files (the plan of its tensors,
// its tokenizer, the bytes it will need), and what a load makes of them (weights in the memory
// pool and a backend reading them). The load runs on the load worker; everything else on the
// scheduler thread.
#ifndef CACE_LIB_ENGINE_SERVED_MODEL_H_
#define CACE_LIB_ENGINE_SERVED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"
#include "lib/runtime/backend.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

// Facts from the files, fixed for the model's life in the engine (shared with the host threads
// that encode prompts, hence immutable).
struct ModelFiles {
  std::string path;
  ModelPlan plan;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::vector<std::int32_t> stop_tokens;  // the tokenizer's EOS, when it has one
  std::uint64_t weight_bytes = 0;         // the pool bytes a load takes
  std::uint64_t kv_bytes_per_token = 0;   // F32 keys and values of one position, all layers
  std::int64_t max_positions = 0;
  std::int64_t vocab_size = 0;

  // The pool bytes of one sequence's KV cache for `prompt_tokens` + `max_tokens` (what the
  // runtime's Sequence takes: the last sampled token is never fed back).
  std::uint64_t KvBytes(std::int64_t prompt_tokens, std::int64_t max_tokens) const;
};

// Validates the files (the loader's plan checks every tensor against the config) and reads the
// tokenizer: `path` is a folder with config.json, model.safetensors and tokenizer.json, or a
// .gguf file.
absl::StatusOr<std::shared_ptr<const ModelFiles>> ReadModelFiles(const std::string& path);

// A model resident in the pool. Destroying it frees its pool memory.
class LoadedWeights {
 public:
  LoadedWeights(MemoryPool& pool, LoadedModel loaded, std::shared_ptr<ModelWeights> weights,
                std::unique_ptr<Backend> backend);
  ~LoadedWeights();
  LoadedWeights(const LoadedWeights&) = delete;
  LoadedWeights& operator=(const LoadedWeights&) = delete;

  Backend& backend() { return *backend_; }
  std::uint64_t bytes() const { return loaded_.allocation_bytes; }

 private:
  MemoryPool& pool_;
  LoadedModel loaded_;
  std::shared_ptr<ModelWeights> weights_;
  std::unique_ptr<Backend> backend_;
};

struct LoadSettings {
  int compute_threads = 0;  // CPU backend threads; 0: one per hardware thread
};

// Copies the weights into `pool` (tagged `owner`) and builds the backend over them. On error the
// pool is as it was.
absl::StatusOr<std::unique_ptr<LoadedWeights>> LoadWeights(const ModelFiles& files, MemoryPool& pool,
                                                          const std::string& owner,
                                                          const LoadSettings& settings);

}  // namespace cace

#endif  // CACE_LIB_ENGINE_SERVED_MODEL_H_
