// The one tensor table of the Llama family (Llama, Mistral, Qwen2): every tensor a model must
// have, with its role, layer, shape (from the config) and name in the two naming conventions,
// Hugging Face (model.layers.N.self_attn.q_proj.weight, ...) and llama.cpp's GGUF names
// (blk.N.attn_q.weight, ...). The loader validates files against it, the runtime binds its weight
// views by its roles, and the tiny-model writer writes what it lists. Shapes are outermost first
// ([out, in] for matrices) in both conventions.
#ifndef CACE_LIB_LOADER_TENSOR_NAMES_H_
#define CACE_LIB_LOADER_TENSOR_NAMES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/loader/model_config.h"

namespace cace {

enum class TensorNaming : std::uint8_t { kHuggingFace, kGguf };

enum class TensorRole : std::uint8_t {
  kEmbedding,  // [vocab][dim]
  kAttnNorm,   // [dim], per layer from here to kWDown
  kWq,         // [q_dim][dim]
  kWk,         // [kv_dim][dim]
  kWv,         // [kv_dim][dim]
  kBq,         // [q_dim], only with attention_bias (Qwen2)
  kBk,         // [kv_dim]
  kBv,         // [kv_dim]
  kWo,         // [dim][q_dim]
  kFfnNorm,    // [dim]
  kWGate,      // [ffn_dim][dim]
  kWUp,        // [ffn_dim][dim]
  kWDown,      // [dim][ffn_dim]
  kFinalNorm,  // [dim]
  kLmHead,     // [vocab][dim], absent when tied to the embedding
};

// "embedding", "q", "attention norm", ...: for messages.
std::string_view TensorRoleName(TensorRole role);

struct ExpectedTensor {
  std::string name;
  TensorRole role = TensorRole::kEmbedding;
  std::int64_t layer = -1;  // -1 for the embedding, the final norm and lm_head
  std::vector<std::int64_t> shape;
  bool is_matrix = false;  // a 2-D weight (may be quantized); otherwise a norm weight or bias
};

// In file order of the usual writers: embeddings, then per layer norms, attention, MLP, then the
// final norm and lm_head (omitted when tied).
std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& config, TensorNaming naming);

}  // namespace cace

#endif  // CACE_LIB_LOADER_TENSOR_NAMES_H_
