// The tensors a Llama-family model must have, by name and shape, in the two naming conventions:
// Hugging Face (model.layers.N.self_attn.q_proj.weight, ...) and llama.cpp's GGUF names
// (blk.N.attn_q.weight, ...). Shapes are outermost first ([out, in] for matrices) in both.
#ifndef CACE_LIB_LOADER_TENSOR_NAMES_H_
#define CACE_LIB_LOADER_TENSOR_NAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/loader/model_config.h"

namespace cace {

enum class TensorNaming : std::uint8_t { kHuggingFace, kGguf };

struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  bool is_matrix = false;  // a 2-D weight (may be quantized); otherwise a norm weight or bias
};

// In file order of the usual writers: embeddings, then per layer norms, attention, MLP, then the
// final norm and lm_head (omitted when tied).
std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& config, TensorNaming naming);

}  // namespace cace

#endif  // CACE_LIB_LOADER_TENSOR_NAMES_H_
