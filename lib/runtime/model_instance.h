// One model ready to serve: its weights in a MemoryPool (the bytes the policy counts), the backend
// that runs them (CPU for a host pool, CUDA for a device pool), and its tokenizer, made by the one
// load path: tokenizer from the model's files, ModelLoader into the pool (tensors the backend
// cannot read as stored converted into the same allocation), weights as views on that memory.
// The engine's load worker calls LoadModelInstance; the registry is fed the measured bytes.
#ifndef CACE_LIB_RUNTIME_MODEL_INSTANCE_H_
#define CACE_LIB_RUNTIME_MODEL_INSTANCE_H_

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_config.h"
#include "lib/loader/model_loader.h"
#include "lib/runtime/backend.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/model_weights.h"
#include "lib/runtime/weights_loader.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

struct ModelInstanceOptions {
  // Pool tag of the weights' allocation; KV caches are tagged "kv:<owner>". Empty: the path.
  std::string owner;
  // Bytes of tensors read so far and in all (ModelLoader's progress; on the loading thread).
  LoadProgressFn progress;
  // Checked between chunks of the load; a cancelled load returns Cancelled and leaves the pool as
  // it was.
  std::stop_token cancel;
  // Where the weights are read from (LoadOptions::files); null: the files themselves.
  const FileSource* files = nullptr;
  CpuBackendOptions cpu;  // for a host pool (kv_owner is set from `owner`)
  int cuda_device = 0;    // for a device pool: the device the pool is on
};

// What an instance of a model will hold, known before loading it (the registry's figures).
struct ModelFootprint {
  ModelFormat format = ModelFormat::kSafetensors;
  ModelConfig config;
  std::uint64_t weight_bytes = 0;        // the pool allocation LoadModelInstance will take
  std::uint64_t kv_bytes_per_token = 0;  // per token of one sequence's KV cache
};

class ModelInstance {
 public:
  ModelInstance(const ModelInstance&) = delete;
  ModelInstance& operator=(const ModelInstance&) = delete;
  // The backend, then the weights, then the pool allocation go.
  ~ModelInstance();

  const std::string& path() const { return path_; }
  ModelFormat format() const { return loaded_.format; }
  const ModelConfig& config() const { return loaded_.config; }
  Backend& backend() const { return *backend_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ModelWeights& weights() const { return *weights_; }
  // The pool KV caches of this model's sequences come from (pass it to Sequence::Start).
  MemoryPool& pool() const { return pool_; }
  AllocationId allocation() const { return loaded_.allocation; }

  // After the pool's Compact moved this instance's allocation (a Relocation of allocation()),
  // re-points the weights at its new place; call it before the next forward pass, with none
  // running. KV caches follow their own allocations by themselves (KvCache::Refresh).
  absl::Status Rebind() { return RebindWeights(loaded_, pool_, *weights_); }

  // Measured: the weights' pool allocation, the live sequences' KV bytes (as allocated), and the
  // KV bytes per token of one sequence.
  std::uint64_t weight_bytes() const { return backend_->weight_bytes(); }
  std::uint64_t kv_bytes() const { return backend_->kv_bytes(); }
  std::uint64_t kv_bytes_per_token() const { return backend_->kv_bytes_per_token(); }

 private:
  friend absl::StatusOr<std::unique_ptr<ModelInstance>> LoadModelInstance(const std::string& path, MemoryPool& pool,
                                                                         ModelInstanceOptions options);
  friend class HostModelCopy;
  ModelInstance(std::string path, MemoryPool& pool) : path_(std::move(path)), pool_(pool) {}
  // With loaded_ filled (its allocation holding the weights): the weights as views and the
  // backend for the pool's memory. Both load paths end here.
  absl::Status Bind(const ModelInstanceOptions& options, const std::string& owner);

  std::string path_;
  MemoryPool& pool_;
  LoadedModel loaded_;  // its allocation is 0 until the loader has filled it
  std::shared_ptr<const Tokenizer> tokenizer_;  // shared with host copies of this model
  std::shared_ptr<ModelWeights> weights_;  // the backend shares them
  std::unique_ptr<Backend> backend_;
};

// `path`: a GGUF file, or a Hugging Face folder (config.json, model.safetensors or shards,
// tokenizer.json), or a .safetensors file in such a folder. On any error (bad or truncated file,
// a tokenizer that does not fit the model, no room in the pool, cancelled, no backend for the
// pool's memory) the pool is left exactly as it was.
absl::StatusOr<std::unique_ptr<ModelInstance>> LoadModelInstance(const std::string& path, MemoryPool& pool,
                                                                 ModelInstanceOptions options = {});

// Where the tokenizer of the model at `path` is: the GGUF itself, or tokenizer.json in the Hugging
// Face folder.
std::string ModelTokenizerPath(const std::string& path);

// Validates the files and says what LoadModelInstance would take from a pool of `memory`, without
// touching any pool.
absl::StatusOr<ModelFootprint> PlanModelInstance(const std::string& path, MemoryKind memory);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_MODEL_INSTANCE_H_
