// The weights of a Llama-family decoder, as typed views by role (the roles of the loader's tensor
// table). The views point into memory someone else holds: a model's allocation in a MemoryPool
// (host or device; weights_loader.h), or buffers kept alive by `keep_alive` (tests).
#ifndef CACE_LIB_RUNTIME_MODEL_WEIGHTS_H_
#define CACE_LIB_RUNTIME_MODEL_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_config.h"
#include "lib/loader/tensor_names.h"
#include "lib/runtime/kernels_math.h"

namespace cace {

// Sizes and constants of the forward pass, checked once so the kernels need not check them.
struct LlamaShape {
  std::int64_t vocab_size = 0;
  std::int64_t dim = 0;         // residual stream width (hidden_size)
  std::int64_t ffn_dim = 0;     // MLP width (intermediate_size)
  std::int64_t n_layers = 0;
  std::int64_t n_heads = 0;     // query heads
  std::int64_t n_kv_heads = 0;  // key/value heads; n_heads is a multiple of it (grouped-query)
  std::int64_t head_dim = 0;
  std::int64_t max_positions = 0;
  float rms_eps = 1e-6f;
  float rope_theta = 10000.0f;
  kmath::RopeStyle rope_style = kmath::RopeStyle::kHalf;

  std::int64_t q_dim() const { return n_heads * head_dim; }
  std::int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// InvalidArgument naming the field when a size is non-positive, heads do not divide, the head
// dimension is odd (rotary pairs) or a size exceeds what the kernels index with int.
absl::StatusOr<LlamaShape> ShapeFromConfig(const ModelConfig& config, kmath::RopeStyle rope_style);

// A row-major matrix [rows][cols] of `dtype`; each row is cols / block elements blocks.
struct WeightMatrix {
  DType dtype = DType::kF32;
  const std::byte* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;

  std::uint64_t RowBytes() const {
    return static_cast<std::uint64_t>(cols / DTypeBlockElements(dtype) * DTypeBlockBytes(dtype));
  }
  const std::byte* Row(std::int64_t r) const { return data + static_cast<std::uint64_t>(r) * RowBytes(); }
};

// True for the types the CPU matrix-vector products read without converting the matrix first.
bool IsDirectMatmulType(DType dtype);

struct LayerWeights {
  const float* attn_norm = nullptr;  // [dim]
  WeightMatrix wq;                   // [q_dim][dim]
  WeightMatrix wk;                   // [kv_dim][dim]
  WeightMatrix wv;                   // [kv_dim][dim]
  const float* bq = nullptr;         // [q_dim], Qwen2 only (null otherwise)
  const float* bk = nullptr;         // [kv_dim]
  const float* bv = nullptr;         // [kv_dim]
  WeightMatrix wo;                   // [dim][q_dim]
  const float* ffn_norm = nullptr;   // [dim]
  WeightMatrix w_gate;               // [ffn_dim][dim]
  WeightMatrix w_up;                 // [ffn_dim][dim]
  WeightMatrix w_down;               // [dim][ffn_dim]
};

struct ModelWeights {
  ModelWeights() = default;
  ModelWeights(const ModelWeights&) = delete;
  ModelWeights& operator=(const ModelWeights&) = delete;

  LlamaShape shape;
  WeightMatrix embedding;  // [vocab][dim]
  std::vector<LayerWeights> layers;
  const float* final_norm = nullptr;  // [dim]
  WeightMatrix lm_head;               // [vocab][dim]; the embedding itself when tied

  // Where the views point: host memory (the CPU backend reads it) or a device's (CUDA).
  MemoryKind memory = MemoryKind::kHost;
  // Bytes of memory holding the views' targets: the model's pool allocation, padding included.
  std::uint64_t held_bytes = 0;
  // Whatever keeps the viewed memory alive when no pool allocation does (tests' buffers).
  std::vector<std::shared_ptr<const void>> keep_alive;

  // Bytes of weights one decode step of one sequence reads: one embedding row, every layer's
  // matrices and vectors, the final norm and the whole lm_head.
  std::uint64_t BytesReadPerToken() const;
};

// Points the view of `role` (in layer `layer` for per-layer roles) at `data`: a matrix of
// `dtype` with the given rows and cols, or a vector (rows = element count, cols = 1), which must
// be F32. InvalidArgument for a layer out of range or a vector of another type.
absl::Status BindTensor(ModelWeights& weights, TensorRole role, std::int64_t layer, DType dtype, const std::byte* data,
                        std::int64_t rows, std::int64_t cols);

// Checks every view against the shape: non-null, dims as the shape says, a type the kernels
// handle. Called by the loaders; tests that assemble weights by hand call it too.
absl::Status ValidateWeights(const ModelWeights& weights);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_MODEL_WEIGHTS_H_
