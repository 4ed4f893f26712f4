#include "lib/runtime/weights_loader.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace cace {

DType CpuWeightType(const ExpectedTensor& tensor, DType file_dtype) {
  if (!tensor.is_matrix) return DType::kF32;
  return IsDirectMatmulType(file_dtype) ? file_dtype : DType::kF32;
}

absl::Status RebindWeights(const LoadedModel& model, const MemoryPool& pool, ModelWeights& w) {
  absl::StatusOr<void*> address = pool.Address(model.allocation);
  if (!address.ok()) return address.status();
  const std::byte* base = static_cast<const std::byte*>(*address);
  for (const LoadedTensor& t : model.tensors) {
    const std::int64_t rows = t.shape.front();
    const std::int64_t cols = t.shape.size() == 2 ? t.shape.back() : 1;
    if (absl::Status st = BindTensor(w, t.role, t.layer, t.dtype, base + t.offset, rows, cols); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(model.path, ": tensor ", t.name, ": ", st.message()));
    }
  }
  // Tied embeddings: the table then lists no lm_head, and the embedding serves as both.
  if (model.config.tie_word_embeddings) w.lm_head = w.embedding;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ModelWeights>> WeightsFromPool(const LoadedModel& model, const MemoryPool& pool) {
  const bool gguf = model.format == ModelFormat::kGguf;
  const kmath::RopeStyle style = gguf && model.config.architecture != Architecture::kQwen2
                                     ? kmath::RopeStyle::kInterleaved
                                     : kmath::RopeStyle::kHalf;
  auto w = std::make_shared<ModelWeights>();
  absl::StatusOr<LlamaShape> shape = ShapeFromConfig(model.config, style);
  if (!shape.ok()) return shape.status();
  w->shape = *shape;
  w->memory = pool.kind();
  w->held_bytes = model.allocation_bytes;
  w->layers.resize(static_cast<std::size_t>(w->shape.n_layers));
  if (absl::Status st = RebindWeights(model, pool, *w); !st.ok()) return st;
  if (absl::Status st = ValidateWeights(*w); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(model.path, ": ", st.message()));
  }
  return w;
}

}  // namespace cace
