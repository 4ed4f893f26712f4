#include "lib/runtime/model_instance.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cuda/cuda_backend.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {
namespace {

LoadOptions LoaderOptions(MemoryKind memory) {
  LoadOptions options;
  options.store_as = memory == MemoryKind::kHost ? StorageTypeFn(CpuWeightType) : StorageTypeFn(CudaWeightType);
  return options;
}

}  // namespace

std::string ModelTokenizerPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return (fs::path(path) / "tokenizer.json").string();
  if (fs::path(path).extension() == ".safetensors") return (fs::path(path).parent_path() / "tokenizer.json").string();
  return path;
}

ModelInstance::~ModelInstance() {
  backend_.reset();
  weights_.reset();
  if (loaded_.allocation != 0) (void)pool_.Free(loaded_.allocation);  // ours and live: cannot fail
}

absl::StatusOr<std::unique_ptr<ModelInstance>> LoadModelInstance(const std::string& path, MemoryPool& pool,
                                                                 ModelInstanceOptions options) {
  const std::string owner = options.owner.empty() ? path : options.owner;
  std::unique_ptr<ModelInstance> instance(new ModelInstance(path, pool));
  // The tokenizer first: a model whose text side is broken takes nothing from the pool.
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(ModelTokenizerPath(path));
  if (!tokenizer.ok()) return tokenizer.status();
  instance->tokenizer_ = *std::move(tokenizer);

  LoadOptions load = LoaderOptions(pool.kind());
  load.progress = std::move(options.progress);
  load.cancel = options.cancel;
  load.files = options.files;
  ModelLoader loader(pool, load);
  absl::StatusOr<ModelPlan> plan = loader.Plan(path);
  if (!plan.ok()) return plan.status();
  if (static_cast<std::int64_t>(instance->tokenizer_->vocab_size()) > plan->config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the tokenizer has ", instance->tokenizer_->vocab_size(),
                                                   " tokens, the model's embedding only ", plan->config.vocab_size));
  }
  absl::StatusOr<LoadedModel> loaded = loader.Load(path, owner);
  if (!loaded.ok()) return loaded.status();
  instance->loaded_ = *std::move(loaded);  // from here the instance frees the allocation on any error

  if (absl::Status bound = instance->Bind(options, owner); !bound.ok()) return bound;
  return instance;
}

absl::Status ModelInstance::Bind(const ModelInstanceOptions& options, const std::string& owner) {
  absl::StatusOr<std::shared_ptr<ModelWeights>> weights = WeightsFromPool(loaded_, pool_);
  if (!weights.ok()) return weights.status();
  weights_ = *std::move(weights);
  const std::string kv_owner = "kv:" + owner;
  if (pool_.kind() == MemoryKind::kHost) {
    CpuBackendOptions cpu = options.cpu;
    cpu.kv_owner = kv_owner;
    absl::StatusOr<std::unique_ptr<CpuBackend>> backend = CpuBackend::Create(weights_, cpu);
    if (!backend.ok()) return backend.status();
    backend_ = *std::move(backend);
  } else {
    absl::StatusOr<std::unique_ptr<Backend>> backend =
        CreateCudaBackend(weights_, CudaBackendOptions{options.cuda_device, kv_owner});
    if (!backend.ok()) return backend.status();
    backend_ = *std::move(backend);
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelFootprint> PlanModelInstance(const std::string& path, MemoryKind memory) {
  absl::StatusOr<ModelPlan> plan = PlanModel(path, LoaderOptions(memory));
  if (!plan.ok()) return plan.status();
  ModelFootprint f;
  f.format = plan->format;
  f.config = plan->config;
  f.weight_bytes = plan->total_bytes;
  f.kv_bytes_per_token =
      KvLayout{plan->config.num_hidden_layers, 1, plan->config.num_key_value_heads * plan->config.head_dim}.Bytes();
  return f;
}

}  // namespace cace
