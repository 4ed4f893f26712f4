#include "lib/engine/served_model.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/kv_cache.h"
#include "lib/runtime/weights_loader.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {

namespace {

std::uint64_t RoundUp(std::uint64_t bytes, std::uint64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

// A pool that refuses every allocation: ModelLoader::Plan needs a pool but never allocates.
class NoPool final : public MemoryPool {
 public:
  MemoryKind kind() const override { return MemoryKind::kHost; }
  absl::StatusOr<Allocation> Allocate(std::uint64_t, std::uint64_t, std::string_view) override {
    return absl::FailedPreconditionError("planning only");
  }
  absl::Status Free(AllocationId) override { return absl::NotFoundError("planning only"); }
  absl::StatusOr<Allocation> Lookup(AllocationId) const override { return absl::NotFoundError("planning only"); }
  std::vector<Allocation> Allocations() const override { return {}; }
  PoolStats Stats() const override { return {}; }
  bool CanFit(std::uint64_t, std::uint64_t) const override { return false; }
  bool CanFitAfterCompaction(std::uint64_t, std::uint64_t) const override { return false; }
  absl::Status Compact(const RelocationCallback&) override { return absl::OkStatus(); }
  absl::StatusOr<void*> Address(AllocationId) const override { return absl::NotFoundError("planning only"); }
  absl::Status Write(AllocationId, std::uint64_t, const void*, std::uint64_t) override {
    return absl::FailedPreconditionError("planning only");
  }
  absl::Status Read(AllocationId, std::uint64_t, void*, std::uint64_t) const override {
    return absl::FailedPreconditionError("planning only");
  }
};

}  // namespace

std::uint64_t ModelFiles::KvBytes(std::int64_t prompt_tokens, std::int64_t max_tokens) const {
  const std::uint64_t positions = static_cast<std::uint64_t>(prompt_tokens + max_tokens - 1);
  return RoundUp(positions * kv_bytes_per_token, MemoryPool::kDefaultAlignment);
}

absl::StatusOr<std::shared_ptr<const ModelFiles>> ReadModelFiles(const std::string& path) {
  NoPool no_pool;
  absl::StatusOr<ModelPlan> plan = ModelLoader(no_pool).Plan(path);
  if (!plan.ok()) return plan.status();
  const bool gguf = plan->format == ModelFormat::kGguf;
  const std::string tokenizer_path = gguf ? path : (std::filesystem::path(path) / "tokenizer.json").string();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(tokenizer_path);
  if (!tokenizer.ok()) return tokenizer.status();
  auto files = std::make_shared<ModelFiles>();
  files->path = path;
  files->plan = *std::move(plan);
  files->tokenizer = *std::move(tokenizer);
  if (files->tokenizer->eos()) files->stop_tokens.push_back(*files->tokenizer->eos());
  const ModelConfig& config = files->plan.config;
  files->weight_bytes = RoundUp(files->plan.total_bytes, MemoryPool::kDefaultAlignment);
  files->kv_bytes_per_token = config.KvBytesPerToken(sizeof(float));
  files->max_positions = config.max_position_embeddings;
  files->vocab_size = config.vocab_size;
  if (files->tokenizer->vocab_size() > static_cast<std::size_t>(config.vocab_size)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the tokenizer has ", files->tokenizer->vocab_size(),
                                                   " tokens, the model only ", config.vocab_size));
  }
  return std::shared_ptr<const ModelFiles>(std::move(files));
}

LoadedWeights::LoadedWeights(MemoryPool& pool, LoadedModel loaded, std::shared_ptr<ModelWeights> weights,
                             std::unique_ptr<Backend> backend)
    : pool_(pool), loaded_(std::move(loaded)), weights_(std::move(weights)), backend_(std::move(backend)) {}

LoadedWeights::~LoadedWeights() {
  backend_.reset();
  weights_.reset();
  (void)pool_.Free(loaded_.allocation);  // ours since the load: cannot be unknown
}

absl::StatusOr<std::unique_ptr<LoadedWeights>> LoadWeights(const ModelFiles& files, MemoryPool& pool,
                                                          const std::string& owner,
                                                          const LoadSettings& settings) {
  absl::StatusOr<LoadedModel> loaded = ModelLoader(pool).Load(files.path, owner);
  if (!loaded.ok()) return loaded.status();
  auto fail = [&](absl::Status status) {
    (void)pool.Free(loaded->allocation);
    return status;
  };
  absl::StatusOr<std::shared_ptr<ModelWeights>> weights = WeightsFromPool(*loaded, pool);
  if (!weights.ok()) return fail(weights.status());
  absl::StatusOr<std::unique_ptr<CpuBackend>> backend =
      CpuBackend::Create(*weights, CpuBackendOptions{.threads = settings.compute_threads});
  if (!backend.ok()) return fail(backend.status());
  return std::make_unique<LoadedWeights>(pool, *std::move(loaded), *std::move(weights), *std::move(backend));
}

}  // namespace cace
